// VideoShare pages: upload with progress, live entry states, banner preview, copy link.
// Plain JavaScript, no build step; every page works without it (the forms post normally).
"use strict";

// Stands for an upload's id in a URL the page is given (data-direct-upload-url).
const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";
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

// A library only when it is needed (the player's, the resumable upload's).
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

// What the browser can tell before asking the server: the inputs' own constraints (required,
// maxlength, type=email) and the file's type and size. Every field at once.
function browserErrors(form, file, texts) {
  const errors = {};
  form.querySelectorAll(".field input:not([type=file]), .field textarea").forEach((input) => {
    if (!input.checkValidity()) errors[input.name] = [input.validationMessage];
  });
  const maxBytes = Number(form.dataset.maxBytes);
  if (!file) errors.file = [texts.noFile];
  else if (!looksLikeVideo(file)) errors.file = [texts.notVideo];
  else if (maxBytes && file.size > maxBytes) errors.file = [texts.tooBig];
  return errors;
}

// The entry's fields with the video's name, size and type in place of the video.
function checkData(form, file) {
  const data = new FormData(form);
  data.delete("file");
  if (!data.get("captions") || !data.get("captions").size) data.delete("captions");
  data.set("file_name", file.name);
  data.set("file_size", String(file.size));
  data.set("file_type", file.type);
  return data;
}

function setUpUpload(form) {
  const texts = document.getElementById("upload-texts").dataset;
  const progressBox = form.querySelector(".upload-progress");
  const bar = progressBox.querySelector("progress");
  const label = progressBox.querySelector(".progress-text");
  const cancel = progressBox.querySelector(".cancel");
  const result = form.querySelector(".upload-result");
  const another = form.querySelector(".another");
  const submit = form.querySelector(".submit");
  const fieldsPart = form.querySelectorAll(".field, .hint, .submit");
  let upload = null; // the upload under way: { abort() }

  // Leaving the page mid-upload loses what is not sent yet: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (upload) { event.preventDefault(); event.returnValue = ""; }
  });

  const csrf = () => ({ "X-CSRFToken": form.elements.csrfmiddlewaretoken.value });
  const chosenCaptions = () => {
    const input = form.querySelector("input[name=captions]");
    return input && input.files.length ? input.files[0] : null;
  };

  // Captions go apart from the video's bytes, to the upload's own address, before its end.
  async function sendCaptions(uploadUrl) {
    const data = new FormData();
    data.set("file", chosenCaptions());
    data.set("language", form.elements.captions_language.value.trim());
    const response = await fetch(uploadUrl + "/captions", {
      method: "PUT", body: data, headers: { Accept: "application/json", ...csrf() },
    });
    if (!response.ok) throw new Error("captions refused: " + response.status);
  }

  function showProgress(sent, total, sentBefore, started) {
    const percent = Math.floor((sent / total) * 100);
    const rate = (sent - sentBefore) / Math.max((Date.now() - started) / 1000, 0.001);
    bar.value = percent;
    bar.setAttribute("aria-valuenow", percent);
    label.textContent = percent >= 100 ? texts.finishing
      : texts.progress.replace("{percent}", percent).replace("{time}", formatDuration((total - sent) / rate));
  }

  // The entry sent, as the page's visitors will see it: converting, then ready with its link.
  // Its public address answers 404 until it is ready (or if it failed: the email says why).
  function followEntry(entryId) {
    const state = document.createElement("p");
    state.className = "entry-state";
    state.innerHTML = '<span class="state state-processing"></span>';
    state.firstChild.textContent = texts.converting;
    result.after(state);
    const url = form.dataset.videoApiUrl.replace(PLACEHOLDER_ID, entryId);
    const until = Date.now() + 15 * 60 * 1000;
    const look = async () => {
      if (!state.isConnected || Date.now() > until) return;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (response.ok) {
          const entry = await response.json();
          state.innerHTML = '<span class="state state-ready"></span> <a></a>';
          state.firstChild.textContent = texts.ready;
          state.lastChild.href = entry.page_url;
          state.lastChild.textContent = texts.watch;
          return;
        }
      } catch (error) { /* the next look may do better */ }
      setTimeout(look, 4000);
    };
    setTimeout(look, 2000);
  }

  function finish(message, ok, entryId) {
    upload = null;
    form.querySelectorAll(".entry-state").forEach((old) => old.remove());
    progressBox.hidden = true;
    submit.disabled = false;
    result.hidden = false;
    result.textContent = message;
    result.className = "upload-result " + (ok ? "ok" : "failed");
    if (ok) {
      // Sent: the form gives way to what happens next, and a way to send another video.
      fieldsPart.forEach((part) => { part.hidden = true; });
      const next = document.createElement("span");
      next.className = "next";
      next.textContent = " " + texts.next;
      result.append(next);
      another.hidden = false;
      if (entryId && form.dataset.videoApiUrl) followEntry(entryId);
    }
    result.focus();
  }

  function sendWhole(file, started) {
    // One request with the whole form (the API's simple upload).
    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.uploadUrl);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) showProgress(progress.loaded, progress.total, 0, started);
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (error) { body = {}; }
      if (request.status === 202) {
        bar.value = 100;
        finish(texts.sent, true, body.id);
      } else {
        showFieldErrors(form, body.errors || {});
        finish(body.detail || texts.failed, false);
      }
    });
    request.addEventListener("error", () => finish(texts.failed, false));
    request.addEventListener("abort", () => finish(texts.cancelled, false));
    request.send(new FormData(form));
    return request;
  }

  async function sendInPieces(file, started) {
    // Resumable (tus): a dropped connection costs one piece, and the same file picked again
    // after a reload goes on from where it stopped. The library loads only now.
    if (!window.tus) await loadScript(form.dataset.tusSrc);
    const fields = {};
    ["first_name", "last_name", "email", "message", "captions_language"].forEach((name) => {
      fields[name] = form.elements[name] ? form.elements[name].value.trim() : "";
    });
    let sentBefore = null;
    let captionsSent = null;
    const pieces = new window.tus.Upload(file, {
      endpoint: form.dataset.resumableUrl,
      headers: csrf(),
      // Before the first piece, the captions: the last piece makes the entry.
      onBeforeRequest: (request) => {
        if (request.getMethod() !== "PATCH" || !chosenCaptions()) return undefined;
        captionsSent = captionsSent || sendCaptions(pieces.url).catch((error) => {
          captionsSent = null; // a retried piece sends them again
          throw error;
        });
        return captionsSent;
      },
      chunkSize: Number(form.dataset.pieceBytes),
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      metadata: { ...fields, filename: file.name, filetype: file.type },
      // The same file with other fields is another entry: it starts anew.
      fingerprint: (chosen, options) => Promise.resolve(["videoshare", chosen.name, chosen.size,
        chosen.lastModified, options.endpoint, JSON.stringify(fields)].join("|")),
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => {
        if (sentBefore === null) sentBefore = sent;
        showProgress(sent, total, sentBefore, started);
      },
      onSuccess: ({ lastResponse }) => {
        bar.value = 100;
        finish(texts.sent, true, lastResponse && lastResponse.getHeader("Upload-Entry"));
      },
      onError: (error) => {
        let body = {};
        try { body = JSON.parse(error.originalResponse.getBody()); } catch (ignored) { body = {}; }
        showFieldErrors(form, body.errors || {});
        finish(body.detail || texts.failed, false);
      },
    });
    const previous = await pieces.findPreviousUploads();
    if (previous.length) pieces.resumeFromPreviousUpload(previous[0]);
    pieces.start();
    return {
      abort: () => {
        pieces.abort(true).catch(() => {}); // and deletes what was sent; the sweep would too
        finish(texts.cancelled, false);
      },
    };
  }

  // Straight to S3 (where the originals are kept there): the web tier checks the fields and
  // signs each part's URL; Uppy sends the parts, retries them, and on a resumed upload asks
  // which parts S3 holds and sends only the others. The library loads only now.
  async function sendStraightToS3(file, started) {
    const headers = { Accept: "application/json", "Content-Type": "application/json", ...csrf() };
    const api = async (method, url, body) => {
      const response = await fetch(url, { method, headers, body: body && JSON.stringify(body) });
      const answer = response.status === 204 ? {} : await response.json();
      if (!response.ok) throw Object.assign(new Error(answer.detail || texts.failed), { answer });
      return answer;
    };
    const fields = {};
    ["first_name", "last_name", "email", "message", "captions_language"].forEach((name) => {
      fields[name] = form.elements[name] ? form.elements[name].value.trim() : "";
    });
    // The same file with the same fields for the same contest goes on where it stopped.
    const remembered = ["videoshare-s3", form.dataset.directUrl, file.name, file.size,
      file.lastModified, JSON.stringify(fields)].join("|");
    let upload = JSON.parse(localStorage.getItem(remembered) || "null");
    const uploadUrl = () => form.dataset.directUploadUrl.replace(PLACEHOLDER_ID, upload.id);
    if (upload) {
      try { await api("GET", uploadUrl() + "/parts"); } catch (gone) { upload = null; }
    }
    if (!upload) {
      try {
        upload = await api("POST", form.dataset.directUrl,
          { ...fields, file_name: file.name, file_size: file.size, file_type: file.type });
      } catch (refused) {
        const answer = refused.answer || {};
        if (!answer.errors) return finish(refused.message, false);
        progressBox.hidden = true;
        submit.disabled = false;
        return showFieldErrors(form, answer.errors);
      }
      localStorage.setItem(remembered, JSON.stringify({ id: upload.id, part_bytes: upload.part_bytes }));
    }
    if (chosenCaptions()) await sendCaptions(uploadUrl()); // before the last part makes the entry

    if (!window.Uppy) await loadScript(form.dataset.uppySrc);
    let entry = null;
    let sentBefore = null;
    const uppy = new window.Uppy.Uppy({ autoProceed: false });
    uppy.use(window.Uppy.AwsS3, {
      shouldUseMultipart: true,
      limit: 4,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      getChunkSize: () => upload.part_bytes,
      createMultipartUpload: () => ({ uploadId: upload.id, key: upload.id }),
      listParts: async () => (await api("GET", uploadUrl() + "/parts"))
        .map((part) => ({ PartNumber: part.number, Size: part.size, ETag: part.etag })),
      signPart: async (_file, { partNumber }) => {
        const answer = await api("POST", uploadUrl() + "/parts", { numbers: [partNumber] });
        return { method: "PUT", url: answer.urls[String(partNumber)] };
      },
      completeMultipartUpload: async () => {
        entry = await api("POST", uploadUrl() + "/complete");
        return {};
      },
      abortMultipartUpload: () => api("DELETE", uploadUrl()),
    });
    uppy.on("upload-progress", (_file, progress) => {
      if (sentBefore === null) sentBefore = progress.bytesUploaded;
      showProgress(progress.bytesUploaded, progress.bytesTotal, sentBefore, started);
    });
    uppy.on("upload-success", () => {
      localStorage.removeItem(remembered);
      bar.value = 100;
      finish(texts.sent, true, entry && entry.id);
    });
    uppy.on("upload-error", (_file, error) => {
      const answer = (error && error.answer) || {};
      if (answer.errors) localStorage.removeItem(remembered); // refused: it cannot go on
      showFieldErrors(form, answer.errors || {});
      finish(answer.detail || texts.failed, false);
    });
    const id = uppy.addFile({ name: file.name, type: file.type, data: file, source: "entry-form" });
    // Known to S3 already: Uppy asks which parts it holds before sending the others.
    uppy.setFileState(id, { s3Multipart: { uploadId: upload.id, key: upload.id } });
    uppy.upload();
    return {
      abort: () => {
        uppy.cancelAll(); // and drops what S3 holds; the sweep would too
        localStorage.removeItem(remembered);
        finish(texts.cancelled, false);
      },
    };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (upload) return;
    result.hidden = true;
    const file = form.querySelector("input[type=file]").files[0];
    const errors = browserErrors(form, file, texts);
    if (Object.keys(errors).length) return showFieldErrors(form, errors);
    showFieldErrors(form, {});

    // The server checks every field before the first byte of the video is sent.
    submit.disabled = true;
    let answer;
    try {
      const response = await fetch(form.dataset.checkUrl, {
        method: "POST", body: checkData(form, file), headers: { Accept: "application/json" },
      });
      answer = { status: response.status, body: await response.json() };
    } catch (error) {
      return finish(texts.failed, false);
    }
    if (answer.status !== 200) {
      submit.disabled = false;
      if (answer.body.errors) return showFieldErrors(form, answer.body.errors);
      return finish(answer.body.detail || texts.failed, false);
    }

    bar.value = 0;
    label.textContent = texts.progress.replace("{percent}", 0).replace("{time}", "…");
    progressBox.hidden = false;
    const send = form.dataset.directUrl ? sendStraightToS3
      : form.dataset.resumableUrl ? sendInPieces : null;
    if (!send) {
      upload = sendWhole(file, Date.now());
      return;
    }
    upload = { abort: () => {} }; // until the library is loaded
    try {
      upload = (await send(file, Date.now())) || null;
    } catch (error) {
      finish(texts.failed, false);
    }
  });

  cancel.addEventListener("click", () => { if (upload) upload.abort(); });
  another.addEventListener("click", () => {
    form.reset();
    form.querySelectorAll(".entry-state").forEach((old) => old.remove());
    result.hidden = true;
    another.hidden = true;
    fieldsPart.forEach((part) => { part.hidden = false; });
    form.querySelector(".field input").focus();
  });
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

// ---- Contest page: its dates in the visitor's time zone, and the time left, counted down.
// The server writes both in UTC (<time datetime>), which is what a page without JS shows.
function localizeTimes(language) {
  const format = new Intl.DateTimeFormat(language, {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
    timeZoneName: "short",
  });
  document.querySelectorAll("time.local-time").forEach((time) => {
    time.textContent = format.format(new Date(time.dateTime));
  });
}

function timeLeftText(language, milliseconds) {
  // The two largest units, as the server writes it: "1 week, 2 days", "3 minutes".
  const minutes = Math.max(1, Math.floor(milliseconds / 60000));
  const days = Math.floor(minutes / 1440);
  const amounts = [["week", Math.floor(days / 7)], ["day", days % 7],
    ["hour", Math.floor(minutes / 60) % 24], ["minute", minutes % 60]];
  const first = amounts.findIndex(([, amount]) => amount > 0);
  return amounts.slice(first, first + 2)
    .filter(([, amount]) => amount > 0)
    .map(([unit, amount]) =>
      new Intl.NumberFormat(language, { style: "unit", unit, unitDisplay: "long" }).format(amount))
    .join(", ");
}

function setUpTimeLeft(box, language) {
  const ends = new Date(box.dataset.ends).getTime();
  function tick() {
    const left = ends - Date.now();
    if (left <= 0) {
      box.parentElement.textContent = box.dataset.closed;
      return;
    }
    box.textContent = timeLeftText(language, left);
    setTimeout(tick, Math.min(left, 30000));
  }
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const language = document.documentElement.lang || undefined;
  localizeTimes(language);
  const timeLeft = document.querySelector(".time-left[data-ends]");
  if (timeLeft) setUpTimeLeft(timeLeft, language);
});
