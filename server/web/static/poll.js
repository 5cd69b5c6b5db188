// Live fragments: an element with data-poll-url is refreshed in place from that URL (an HTML
// fragment rendered by the server, in the page's language and zone) every data-poll-every ms,
// without reloading the page. It stops once the fragment says data-done="true" (a finished
// verify run), and backs off while the server does not answer.
function pollable(element) {
  const url = element.dataset.pollUrl;
  const every = Number(element.dataset.pollEvery || 2000);
  let delay = every;

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(`status ${response.status}`);
      element.innerHTML = await response.text();
      delay = every;
    } catch (err) {
      delay = Math.min(delay * 2, 30000);
    }
    if (element.querySelector('[data-done="true"]')) return;
    setTimeout(refresh, delay);
  }

  if (!element.querySelector('[data-done="true"]')) setTimeout(refresh, delay);
}

document.querySelectorAll("[data-poll-url]").forEach(pollable);
