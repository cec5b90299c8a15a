// mediahub pages: live status, uploads with progress, seeking. No framework; plain DOM.
//
// Words shown to people come from the page, in its language: base.html renders
// mediahub.core.interface.script_text() as JSON (<script id="script-text">), and text(key, values)
// reads it, filling {name} placeholders; the English after the key is what shows without it. A new
// sentence: add it there with gettext, use text("its_key", "English…") here, then `make messages`.
"use strict";

const SCRIPT_TEXT = (() => {
  try { return JSON.parse(document.getElementById("script-text").textContent) || {}; } catch (e) { return {}; }
})();

function text(key, fallback, values = {}) {
  const template = typeof SCRIPT_TEXT[key] === "string" ? SCRIPT_TEXT[key] : fallback;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function statusText(status) {
  return (SCRIPT_TEXT.status || {})[status] || status;
}

const POLL_MS = 1500;
const ACTIVE = new Set(["queued", "processing"]);

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function fetchAsset(id) {
  const response = await fetch(`/api/assets/${id}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`asset ${id}: HTTP ${response.status}`);
  return response.json();
}

// Show an asset's status, progress and error inside `root` (elements marked data-field).
function showAssetState(root, asset) {
  root.dataset.status = asset.status;
  const status = root.querySelector("[data-field=status]");
  if (status) { status.textContent = statusText(asset.status); status.className = `status status-${asset.status}`; }
  const progress = root.querySelector("[data-field=progress]");
  if (progress) { progress.value = asset.progress; progress.hidden = !ACTIVE.has(asset.status); }
  let error = root.querySelector("[data-field=error]");
  if (asset.error) {
    if (!error) { error = document.createElement("p"); error.className = "asset-error"; error.dataset.field = "error"; root.appendChild(error); }
    error.textContent = asset.error;
  } else if (error) { error.remove(); }
}

// Library: refresh the cards of assets that are still being processed.
function pollLibrary() {
  const cards = [...document.querySelectorAll(".card[data-asset-id]")].filter((c) => ACTIVE.has(c.dataset.status));
  if (!cards.length) return;
  Promise.all(cards.map(async (card) => {
    try {
      const asset = await fetchAsset(card.dataset.assetId);
      showAssetState(card, asset);
      if (asset.thumbnail && !card.querySelector(".thumb img")) {
        const img = document.createElement("img"); img.src = asset.thumbnail; img.alt = "";
        const thumb = card.querySelector(".thumb"); thumb.replaceChildren(img);
      }
      const img = card.querySelector(".thumb img");
      if (img && asset.kind === "image" && asset.status === "ready") img.alt = await imageDescription(asset);
    } catch (e) { console.warn(e); }
  })).finally(() => setTimeout(pollLibrary, POLL_MS));
}

// An image's description (its one shot's) in the page's language: its alt text; "" if none yet.
async function imageDescription(asset) {
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  try {
    const response = await fetch(asset.shots, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const shots = response.ok ? (await response.json()).shots : [];
    return shots.length ? shots[0].description[lang] : "";
  } catch (e) { console.warn(e); return ""; }
}

// Asset page: follow processing; reload once it ends so frames and tags appear.
function pollAssetPage(article) {
  if (!ACTIVE.has(article.dataset.status)) return;
  setTimeout(async () => {
    try {
      const asset = await fetchAsset(article.dataset.assetId);
      showAssetState(article, asset);
      if (!ACTIVE.has(asset.status)) { window.location.reload(); return; }
    } catch (e) { console.warn(e); }
    pollAssetPage(article);
  }, POLL_MS);
}

function setupSeeking() {
  const player = document.getElementById("player");
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-seek]");
    if (!target || !player) return;
    if (momentPlayers.has(player)) momentPlayers.get(player).release();  // a chosen shot or tag plays freely
    player.currentTime = parseFloat(target.dataset.seek);
    player.play().catch(() => {});
  });
  if (!player) return;
  const frames = [...document.querySelectorAll(".filmstrip [data-seek]")];
  player.addEventListener("timeupdate", () => {
    let current = null;
    for (const frame of frames) if (parseFloat(frame.dataset.seek) <= player.currentTime + 0.01) current = frame;
    frames.forEach((f) => f.classList.toggle("current", f === current));
  });
}

function setupConfirm() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  });
}

// Upload page: one XHR per file so each gets its own progress bar, then follow processing.
function setupUpload(form) {
  const list = document.getElementById("upload-list");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.querySelector("input[type=file]");
    const description = form.querySelector("textarea[name=description]").value;
    const limit = { bytes: Number(form.dataset.maxBytes || 0), sentence: form.dataset.tooLarge };
    [...input.files].forEach((file) => uploadOne(form.dataset.api, file, description, list, limit));
    form.reset();
  });
}

function uploadRow(list, name) {
  const row = document.createElement("li");
  const title = document.createElement("div"); title.className = "name"; title.textContent = name;
  const bar = document.createElement("progress"); bar.max = 1; bar.value = 0; bar.dataset.field = "progress";
  const state = document.createElement("div"); state.className = "state"; state.textContent = text("uploading", "uploading…");
  row.append(title, bar, state); list.appendChild(row);
  return { row, bar, state, title };
}

function uploadOne(url, file, description, list, limit) {
  const { row, bar, state, title } = uploadRow(list, file.name);
  // The server refuses it too (413 while streaming), but a browser may only see the connection close.
  if (limit && limit.bytes && file.size > limit.bytes) {
    row.classList.add("failed"); state.textContent = limit.sentence; bar.hidden = true; return;
  }
  const body = new FormData(); body.append("file", file); body.append("description", description);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; });
  xhr.addEventListener("load", () => {
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch (e) { data = { detail: `HTTP ${xhr.status}` }; }
    if (xhr.status >= 400) { row.classList.add("failed"); state.textContent = data.detail || text("upload_failed", "Upload failed (HTTP {status}).", { status: xhr.status }); bar.hidden = true; return; }
    const link = document.createElement("a"); link.href = data.url || `/assets/${data.id}/`; link.textContent = file.name;
    title.replaceChildren(link);
    if (data.duplicate) { state.textContent = text("duplicate", "Already in the library as “{title}” ({status}); nothing new was created.",
      { title: data.title, status: statusText(data.status) }); bar.hidden = true; return; }
    followProcessing(data.id, row, bar, state);
  });
  xhr.addEventListener("error", () => { row.classList.add("failed"); state.textContent = text("upload_interrupted", "The upload was interrupted; check the connection and try again."); });
  xhr.send(body);
}

function followProcessing(id, row, bar, state) {
  bar.value = 0;
  const tick = async () => {
    try {
      const asset = await fetchAsset(id);
      bar.value = asset.progress;
      state.textContent = asset.status === "processing"
        ? text("processing_stage", "processing ({stage})…", { stage: asset.stage || text("starting", "starting") })
        : statusText(asset.status);
      if (asset.error) state.textContent += ` — ${asset.error}`;
      row.dataset.status = asset.status;
      if (asset.status === "failed") row.classList.add("failed");
      if (ACTIVE.has(asset.status)) setTimeout(tick, POLL_MS); else bar.hidden = asset.status !== "ready";
    } catch (e) { setTimeout(tick, POLL_MS * 2); }
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("library")) pollLibrary();
  const article = document.querySelector("article.asset");
  if (article) pollAssetPage(article);
  const form = document.getElementById("upload-form");
  if (form) setupUpload(form);
  setupSeeking();
  setupConfirm();
  setupSearchResults();
  const board = document.querySelector("article.board");
  if (board) setupBoard(board);
  const bulk = document.getElementById("bulk-edit");
  if (bulk) setupBulkEdit(bulk);
  seekFromAddress();
});

// Library bulk edit: "select all" ticks the page's cards, and a bar at the bottom counts the ticked ones and
// opens the panel. The form posts the same without it (the server reads "select all" itself).
function setupBulkEdit(form) {
  const all = form.querySelector("#bulk-all");
  const boxes = [...document.querySelectorAll('input[form="bulk-edit"][name="asset"]')];
  const bar = document.querySelector(".bulk-bar");
  const panel = document.getElementById("bulk-panel");
  const count = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    bar.hidden = ticked === 0 || panel.open;
    bar.querySelector("button").textContent = ticked === 1 ? bar.dataset.one : bar.dataset.many.replace("{n}", ticked);
    all.checked = ticked === boxes.length;
  };
  all.addEventListener("change", () => { boxes.forEach((box) => { box.checked = all.checked; }); count(); });
  boxes.forEach((box) => box.addEventListener("change", count));
  panel.addEventListener("toggle", count);
  bar.querySelector("button").addEventListener("click", () => {
    panel.open = true;
    panel.scrollIntoView({ block: "start" });
    form.querySelector("input:not([type=hidden]):not([type=checkbox]), select").focus({ preventScroll: true });
  });
  count();
}

// Asset page opened at a moment (?t=5&end=10: the page shows the range it selected) or a time (?t=12.5).
function seekFromAddress() {
  const player = document.getElementById("player");
  if (!player) return;
  const selected = document.querySelector(".moment-selected");
  if (selected) {
    const moment = { start: Number(selected.dataset.start), end: Number(selected.dataset.end) };
    momentPlayer(player, selected.querySelector(".moment-controls")).load(moment, { autoplay: false });
    return;
  }
  const t = parseFloat(new URLSearchParams(window.location.search).get("t"));
  if (Number.isNaN(t)) return;
  const seek = () => { player.currentTime = t; };
  if (player.readyState >= 1) seek(); else player.addEventListener("loadedmetadata", seek, { once: true });
}

// Search results: play a moment inline from its start, and send clicks and judgements.
function setupSearchResults() {
  const summary = document.querySelector(".search-summary[data-search-id]");
  if (!summary) return;
  const searchId = summary.dataset.searchId;
  const dialog = document.getElementById("moment-player");
  dialog.addEventListener("close", () => dialog.querySelector("video").pause());

  const sendFeedback = (card, action) => fetch("/api/feedback", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
    body: JSON.stringify({ search_id: searchId, asset_id: Number(card.dataset.assetId),
      start: Number(card.dataset.start), end: Number(card.dataset.end), action }),
  });

  document.querySelectorAll(".moment").forEach((card) => {
    card.querySelector(".play").addEventListener("click", () => {
      sendFeedback(card, "click");
      playMoment(dialog, card);
    });
    card.querySelectorAll(".judge button[data-action]").forEach((button) => {
      button.addEventListener("click", async () => {
        const response = await sendFeedback(card, button.dataset.action);
        if (!response.ok) { button.title = text("judgement_failed", "Could not save the judgement; try again."); return; }
        card.querySelectorAll(".judge button[data-action]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
        card.dataset.judged = button.dataset.action;
      });
    });
  });
}

// The dialog names what it plays (title and range, or "Still image"), links to the asset page there,
// and plays a video moment from its start to its end; a still shows with its description.
function playMoment(dialog, card) {
  const video = dialog.querySelector("video");
  const still = dialog.querySelector("img");
  const caption = dialog.querySelector("figcaption");
  const isStill = card.dataset.kind === "image";
  dialog.querySelector("#moment-player-title").textContent = card.dataset.label;
  dialog.querySelector("a.open-asset").href = card.dataset.href;
  video.hidden = isStill; still.hidden = !isStill; caption.hidden = !isStill;
  const player = momentPlayer(video, dialog.querySelector(".moment-controls"));
  if (isStill) {
    player.release();
    video.pause();
    const description = card.querySelector(".play img").alt;
    still.src = card.dataset.media; still.alt = description || card.dataset.label;
    caption.textContent = description;
  } else {
    video.setAttribute("aria-label", card.dataset.label);
    if (video.dataset.src !== card.dataset.media) { video.src = card.dataset.media; video.dataset.src = card.dataset.media; }
    player.load(momentOf(card));
  }
  if (!dialog.open) dialog.showModal();
}

function momentOf(element) {
  return { start: Number(element.dataset.start), end: Number(element.dataset.end) };
}

// Brief board: a card plays its moment in place, from its start to its end. The owner's changes to a
// beat (pick, unpick, more like this, new text) go through the JSON API; then the rows that changed
// are swapped for the server's new rendering (a pick moves other beats' proposals too). Without JS
// the same forms post to the page, which redirects back.
function setupBoard(board) {
  const rendered = new WeakMap();  // row -> its markup as the server sent it
  const remember = (row) => rendered.set(row, rowMarkup(row));
  board.querySelectorAll("li.beat").forEach(remember);
  board.addEventListener("click", (event) => {
    const button = event.target.closest(".moment button.play");
    if (button) playInCard(board, button.closest(".moment"));
  });
  board.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    sendBeatChange(board, form, rendered, remember);
  });
}

// A row's markup without its CSRF tokens (masked afresh on every rendering).
function rowMarkup(row) {
  const copy = row.cloneNode(true);
  copy.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => input.remove());
  return copy.innerHTML;
}

function playInCard(board, card) {
  const button = card.querySelector("button.play");
  let video = card.querySelector("video.inline-player");
  if (!video) {
    video = document.createElement("video");
    video.className = "inline-player";
    video.controls = true;
    video.preload = "auto";
    video.playsInline = true;
    video.poster = button.querySelector("img").src;
    video.setAttribute("aria-label", card.dataset.label);
    video.src = card.dataset.media;
    const controls = document.getElementById("moment-controls").content.firstElementChild.cloneNode(true);
    const range = document.createElement("p");  // the range stays in sight once the thumbnail is gone
    range.className = "moment-range";
    range.textContent = button.querySelector(".range").textContent;
    button.hidden = true;
    button.after(video, range, controls);
  }
  board.querySelectorAll("video.inline-player").forEach((other) => { if (other !== video) other.pause(); });
  momentPlayer(video, card.querySelector(".moment-controls")).load(momentOf(card));
}

// One player behaviour for every moment: play from its start, pause on its last frame (within a frame,
// never after), then offer "Replay moment" and "Play on" (past the end, without stopping). Playing
// again where it stopped replays the moment. One controller per <video>, reused for the next moment.
const momentPlayers = new WeakMap();

function momentPlayer(video, controls) {
  if (!momentPlayers.has(video)) momentPlayers.set(video, makeMomentPlayer(video, controls));
  return momentPlayers.get(video);
}

function makeMomentPlayer(video, controls) {
  let moment = null;       // {start, end} while a moment is being played
  let playingOn = false;   // "Play on" pressed: no stop at the end
  let armed = false;       // this stretch of playback began inside the moment, so it stops at its end
  let stoppedAt = null;    // where it stopped at the end (null: it ran to the end of the file)
  let atEnd = false;       // stopped at the end: the controls offer what next
  let step = 0;            // the frame interval, learnt from the frames shown (the smallest gap seen)
  let lastFrame = null;
  let waiting = false;     // a frame callback is pending
  const playOnButton = controls.querySelector("[data-moment=play-on]");
  const show = () => {
    controls.hidden = !moment || (!atEnd && !playingOn);
    playOnButton.hidden = !atEnd;
    controls.querySelector(".moment-stopped").hidden = !atEnd;
  };
  const arm = () => { armed = Boolean(moment) && !playingOn && video.currentTime < moment.end - 1e-3; };

  const stop = (frameTime) => {
    video.pause();
    // Rest on the last frame before the end, and say so: the clock may lag or lead the frame shown, and
    // the callback may have come late or missed that frame.
    const target = frameTime < moment.end ? frameTime : Math.max(moment.start, moment.end - (step || 0.04) / 2);
    if (video.currentTime !== target) video.currentTime = target;
    stoppedAt = video.currentTime;
    atEnd = true;
    show();
  };
  const onFrame = (now, frame) => {
    waiting = false;
    if (lastFrame !== null && frame.mediaTime > lastFrame) step = Math.min(step || 0.5, frame.mediaTime - lastFrame);
    lastFrame = frame.mediaTime;
    if (armed && frame.mediaTime + step >= moment.end - 1e-3) stop(frame.mediaTime);
    else watchFrames();
  };
  const watchFrames = () => {
    if (waiting || video.paused || !video.requestVideoFrameCallback) return;
    waiting = true;
    video.requestVideoFrameCallback(onFrame);
  };

  video.addEventListener("play", () => {
    // The clock may already run when "play" arrives; a user who dragged elsewhere meant that place.
    if (moment && atEnd && (stoppedAt === null || Math.abs(video.currentTime - stoppedAt) < 0.25)) {
      video.currentTime = moment.start;  // play again after the end: the moment again
    }
    atEnd = false;
    arm();
    show();
    watchFrames();
  });
  video.addEventListener("seeking", () => { lastFrame = null; });
  video.addEventListener("seeked", () => { arm(); watchFrames(); });
  video.addEventListener("ended", () => { if (armed) { atEnd = true; stoppedAt = null; show(); } });
  // Where requestVideoFrameCallback is missing, timeupdate (every ~250 ms) is the fallback.
  video.addEventListener("timeupdate", () => {
    if (!video.requestVideoFrameCallback && armed && !video.paused && video.currentTime >= moment.end) stop(video.currentTime);
  });
  controls.querySelector("[data-moment=replay]").addEventListener("click", () => {
    playingOn = false;
    atEnd = false;
    show();
    video.currentTime = moment.start;
    video.play().catch(() => {});
  });
  playOnButton.addEventListener("click", () => {
    playingOn = true;
    atEnd = false;
    video.play().catch(() => {});
  });

  return {
    load(next, { autoplay = true } = {}) {
      moment = next;
      playingOn = false;
      atEnd = false;
      show();
      const start = () => {
        video.currentTime = moment.start;
        arm();
        if (autoplay) video.play().catch(() => {});
      };
      if (video.readyState >= 1) start(); else video.addEventListener("loadedmetadata", start, { once: true });
    },
    release() { moment = null; armed = false; atEnd = false; show(); },
  };
}

async function sendBeatChange(board, form, rendered, remember) {
  const row = form.closest("li.beat");
  const status = row.querySelector(".beat-status");
  const method = form.dataset.apiMethod;
  const body = {};
  form.querySelectorAll("[name]").forEach((input) => {
    if (input.name !== "csrfmiddlewaretoken") body[input.name] = input.hasAttribute("data-number") ? Number(input.value) : input.value;
  });
  row.setAttribute("aria-busy", "true");
  form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  status.classList.remove("error");
  status.textContent = text("working", "Working…");
  try {
    const response = await fetch(form.dataset.api, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: method === "DELETE" ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let detail = text("nothing_changed", "Nothing was changed (HTTP {status}); reload the page and try again.",
        { status: response.status });
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    await refreshRows(board, rendered, remember);
  } catch (error) {
    status.classList.add("error");
    status.textContent = error.message;
    row.removeAttribute("aria-busy");
    form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
}

// Fetch the board again and swap in the rows (and the counts above them) that changed.
async function refreshRows(board, rendered, remember) {
  const response = await fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok) throw new Error(text("board_not_redrawn", "Saved, but the board could not be shown again; reload the page."));
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("article.board");
  const meta = fresh.querySelector(".board-meta");
  if (meta) board.querySelector(".board-meta").replaceWith(document.importNode(meta, true));
  fresh.querySelectorAll("li.beat").forEach((newRow) => {
    const oldRow = board.querySelector(`#${newRow.id}`);
    if (!oldRow) return;
    const markup = rowMarkup(newRow);
    if (rendered.get(oldRow) === markup && !oldRow.hasAttribute("aria-busy")) return;
    const row = document.importNode(newRow, true);
    oldRow.replaceWith(row);
    remember(row);
  });
}
