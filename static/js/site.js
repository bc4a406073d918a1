// VideoShare pages: upload with progress, live entry states, banner preview, copy link.
// Plain JavaScript, no build step; every page works without it (the forms post normally).
"use strict";

const VIDEO_EXTENSIONS = ["flv", "wmv", "avi", "mov", "mkv", "3gp", "3g2", "webm", "mpg", "mpeg",
  "ts", "mts", "m2ts", "mp4", "m4v", "ogv", "vob", "asf", "dv", "mxf"];

function looksLikeVideo(file) {
  const extension = file.name.split(".").pop().toLowerCase();
  return file.type.startsWith("video/") || VIDEO_EXTENSIONS.includes(extension);
}

function formatDuration(seconds) {
  if (!isFinite(seconds) || seconds < 0) return "…";
  if (seconds < 60) return Math.ceil(seconds) + " s";
  const minutes = Math.floor(seconds / 60);
  return minutes + " min " + Math.round(seconds % 60) + " s";
}

function showFieldErrors(form, errors) {
  form.querySelectorAll(".field").forEach((field) => {
    const box = field.querySelector(".error");
    const messages = errors[field.dataset.field];
    field.classList.toggle("has-error", Boolean(messages));
    const input = field.querySelector("input, textarea, select");
    if (messages) {
      box.textContent = messages.join(" ");
      box.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const described = (input.getAttribute("aria-describedby") || "").split(" ");
        if (!described.includes(box.id)) described.push(box.id);
        input.setAttribute("aria-describedby", described.join(" ").trim());
      }
    } else {
      box.textContent = "";
      box.hidden = true;
      if (input) input.removeAttribute("aria-invalid");
    }
  });
  const first = form.querySelector(".has-error input, .has-error textarea");
  if (first) first.focus();
}

function setUpUpload(form) {
  const texts = document.getElementById("upload-texts").dataset;
  const progressBox = form.querySelector(".upload-progress");
  const bar = progressBox.querySelector("progress");
  const label = progressBox.querySelector(".progress-text");
  const cancel = progressBox.querySelector(".cancel");
  const result = form.querySelector(".upload-result");
  const submit = form.querySelector(".submit");
  const maxBytes = Number(form.dataset.maxBytes);
  let request = null;

  function finish(message, ok) {
    progressBox.hidden = true;
    submit.disabled = false;
    result.hidden = false;
    result.textContent = message;
    result.className = "upload-result " + (ok ? "ok" : "failed");
    request = null;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    result.hidden = true;
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return showFieldErrors(form, { file: [texts.noFile] });
    if (!looksLikeVideo(file)) return showFieldErrors(form, { file: [texts.notVideo] });
    if (maxBytes && file.size > maxBytes) return showFieldErrors(form, { file: [texts.tooBig] });
    showFieldErrors(form, {});

    const started = Date.now();
    request = new XMLHttpRequest();
    request.open("POST", form.dataset.uploadUrl);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      const percent = Math.floor((progress.loaded / progress.total) * 100);
      const elapsed = (Date.now() - started) / 1000;
      const rate = progress.loaded / Math.max(elapsed, 0.001);
      const left = (progress.total - progress.loaded) / rate;
      bar.value = percent;
      bar.setAttribute("aria-valuenow", percent);
      label.textContent = percent >= 100 ? texts.finishing
        : texts.progress.replace("{percent}", percent).replace("{time}", formatDuration(left));
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (error) { body = {}; }
      if (request.status === 202) {
        bar.value = 100;
        form.reset();
        finish(texts.sent, true);
      } else {
        showFieldErrors(form, body.errors || {});
        finish(body.detail || texts.failed, false);
      }
    });
    request.addEventListener("error", () => finish(texts.failed, false));
    request.addEventListener("abort", () => finish(texts.cancelled, false));

    bar.value = 0;
    label.textContent = texts.progress.replace("{percent}", 0).replace("{time}", "…");
    progressBox.hidden = false;
    submit.disabled = true;
    request.send(new FormData(form));
  });

  cancel.addEventListener("click", () => { if (request) request.abort(); });
}

function setUpLiveStates(box) {
  // Poll while the page is open: new entries reload the list, states update in place.
  const rows = () => [...box.querySelectorAll("tr[data-id]")];
  const busy = () => rows().filter((row) => ["queued", "processing"].includes(row.dataset.status));

  function update(row, entry) {
    row.dataset.status = entry.status;
    const cell = row.querySelector(".state-cell");
    cell.innerHTML = "";
    const badge = document.createElement("span");
    badge.className = "state state-" + entry.status;
    badge.textContent = entry.label;
    cell.append(badge);
    if (entry.failure_reason) {
      const reason = document.createElement("small");
      reason.className = "reason";
      reason.textContent = entry.failure_reason;
      cell.append(document.createElement("br"), reason);
    }
    const files = row.querySelector(".files");
    if (entry.video_url && !files.querySelector(".mp4")) {
      const link = document.createElement("a");
      link.className = "mp4";
      link.href = entry.video_url;
      link.textContent = "MP4";
      const size = document.createElement("small");
      size.textContent = " " + entry.width + "×" + entry.height + ", " + entry.duration.toFixed(1) + " s";
      files.append(document.createElement("br"), link, size);
    }
    if (entry.poster_url && !row.querySelector(".thumb")) {
      const image = document.createElement("img");
      image.className = "thumb";
      image.src = entry.poster_url;
      image.alt = "";
      row.querySelector(".poster").append(image);
    }
  }

  async function refresh() {
    const url = new URL(box.dataset.statesUrl, window.location.href);
    url.searchParams.set("ids", busy().map((row) => row.dataset.id).join(","));
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      const { entries, count } = await response.json();
      if (count !== Number(box.dataset.count)) {
        window.location.reload();
        return;
      }
      busy().forEach((row) => {
        const entry = entries[row.dataset.id];
        if (entry && entry.status !== row.dataset.status) update(row, entry);
      });
    } catch (error) { /* offline for a moment: try again at the next tick */ }
    setTimeout(refresh, 3000);
  }
  setTimeout(refresh, 3000);
}

function setUpBannerPreview(input, preview) {
  input.addEventListener("change", () => {
    const file = input.files[0];
    if (!file || !file.type.startsWith("image/")) return;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const entryForm = document.getElementById("entry-form");
  if (entryForm) setUpUpload(entryForm);
  const entries = document.getElementById("entries");
  if (entries) setUpLiveStates(entries);
  const preview = document.getElementById("banner-preview");
  const bannerInput = document.querySelector("input[name=banner]");
  if (preview && bannerInput) setUpBannerPreview(bannerInput, preview);
  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.querySelector(button.dataset.copy);
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (error) { document.execCommand("copy"); }
      button.textContent = button.dataset.done;
    });
  });
});
