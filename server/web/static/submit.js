// Submit page: upload with a progress bar (XHR), then follow the new submission's status
// (queued → scoring → scored / rejected) by polling GET /api/v1/submissions/{id}, no reload.
const form = document.getElementById("upload");
const fileInput = document.getElementById("file");
const drop = document.getElementById("drop");
const bar = document.getElementById("progress");
const message = document.getElementById("upload-message");
const recent = document.getElementById("recent");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const FINAL = new Set(["scored", "rejected", "failed", "run_error", "install_error"]);

function say(text) { message.textContent = text; }

function statusCell(row, status) {
  const cell = row.querySelector(".status");
  if (!cell) return;
  cell.className = `status status-${status}`;
  cell.textContent = form.dataset[`status${status[0].toUpperCase()}${status.slice(1)}`] || status;
  row.dataset.status = status;
}

async function replaceRow(id) {
  // The final row comes from the server, in the page's language (scores, problems, times).
  const response = await fetch(form.dataset.rowUrl.replace("ID", id), { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) return;
  const holder = document.createElement("tbody");
  holder.innerHTML = (await response.text()).trim();
  const fresh = holder.querySelector("tr");
  const old = document.getElementById(`sub-${id}`);
  if (fresh && old) old.replaceWith(fresh);
  else if (fresh) recent.prepend(fresh);
}

async function follow(id) {
  let delay = 500;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 4000);
    let body;
    try {
      const response = await fetch(form.dataset.apiUrl.replace("ID", id), { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) continue;
      body = await response.json();
    } catch (err) {
      continue;
    }
    const row = document.getElementById(`sub-${id}`);
    if (row && row.dataset.status !== body.status) statusCell(row, body.status);
    if (FINAL.has(body.status)) {
      await replaceRow(id);
      say("");
      return;
    }
  }
}

function upload(file) {
  const data = new FormData();
  data.append("file", file);
  data.append("note", document.getElementById("note").value);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("X-CSRFToken", csrf);
  xhr.setRequestHeader("Accept", "application/json");
  bar.hidden = false;
  bar.value = 0;
  say(form.dataset.msgSending);
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
  });
  xhr.addEventListener("load", async () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
    if (xhr.status !== 202) {
      say(body.message || form.dataset.msgFailed);
      return;
    }
    bar.value = 100;
    say(form.dataset.msgDone);
    const remaining = document.getElementById("remaining");
    if (remaining && typeof body.remaining_today === "number") remaining.textContent = String(body.remaining_today);
    await replaceRow(body.id);
    form.reset();
    follow(body.id);
  });
  xhr.addEventListener("error", () => say(form.dataset.msgFailed));
  xhr.send(data);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = fileInput.files[0];
  if (!file) { say(form.dataset.msgNofile); return; }
  upload(file);
});

["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
  event.preventDefault();
  drop.classList.add("over");
}));
["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  if (event.dataTransfer.files.length) {
    fileInput.files = event.dataTransfer.files;
    say(event.dataTransfer.files[0].name);
  }
});

// Rows still pending when the page was rendered keep moving too.
recent.querySelectorAll("tr[data-status='queued'], tr[data-status='scoring']").forEach((row) => follow(row.dataset.id));
