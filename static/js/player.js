// The video page's player, for an entry that has an HLS stream: the stream (the browser's own
// HLS, else hls.js over Media Source Extensions), Plyr's controls in the page's language and
// the storyboard's previews while scrubbing. Plain JavaScript, no build step. Without it, or
// when neither can play HLS, the <video> plays its MP4 <source> as before.
"use strict";
// loadScript() is site.js's, which every page runs first (both are deferred, in order).

// The page holds the MP4 back (preload="none") until it is known what plays.
function load(video) {
  video.preload = "metadata";
}

// The MP4 <source> where the stream failed (an src attribute would win over <source>).
function playMp4(video) {
  const at = video.currentTime;
  video.removeAttribute("src");
  video.load();
  if (at) video.addEventListener("loadedmetadata", () => (video.currentTime = at), { once: true });
}

async function attachStream(video) {
  const url = video.dataset.stream;
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.addEventListener("error", () => playMp4(video), { once: true });
    video.src = url;
    return load(video);
  }
  // hls.js only for browsers that need it: a large file the others never download.
  try {
    await loadScript(video.dataset.hlsScript);
  } catch {
    return load(video);
  }
  if (!window.Hls || !window.Hls.isSupported()) return load(video);
  // No worker: hls.js makes it from a blob: URL, which the Content-Security-Policy refuses,
  // and fMP4 segments need no transmuxing anyway.
  const hls = new window.Hls({ enableWorker: false });
  hls.on(window.Hls.Events.ERROR, (event, data) => {
    if (!data.fatal) return;
    hls.destroy();
    playMp4(video);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  load(video);
}

function setUpControls(video) {
  const options = {
    // The icons from our own static files: the default is Plyr's CDN, outside our policy.
    iconUrl: video.dataset.icons,
    i18n: { ...document.getElementById("player-texts").dataset },
    settings: ["captions", "speed"],
    captions: { active: video.querySelector("track") !== null },
  };
  if (video.dataset.storyboard) {
    options.previewThumbnails = { enabled: true, src: video.dataset.storyboard };
  }
  return new window.Plyr(video, options);
}

const streamed = document.querySelector("video[data-stream]");
if (streamed) {
  if (window.Plyr) setUpControls(streamed);
  attachStream(streamed);
}
