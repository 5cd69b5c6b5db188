// Countdown to a competition's deadline (or opening): <time class="countdown" datetime="…">.
// The server's clock (data-now) sets the offset, so a wrong clock on the phone does not matter.
const pad = (n) => String(n).padStart(2, "0");

function start(el) {
  const target = Date.parse(el.getAttribute("datetime"));
  const serverNow = Date.parse(el.dataset.now || "");
  const skew = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
  if (Number.isNaN(target)) return;
  const tick = () => {
    const left = Math.max(0, target - (Date.now() + skew));
    const s = Math.floor(left / 1000);
    const days = Math.floor(s / 86400);
    const clock = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
    el.textContent = left === 0 ? el.dataset.ended : (days ? `${el.dataset.days.replace("{d}", days)} ${clock}` : clock);
    if (left > 0) setTimeout(tick, 1000 - (left % 1000));
  };
  el.title = el.textContent;
  tick();
}

document.querySelectorAll("time.countdown").forEach(start);
