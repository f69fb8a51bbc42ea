// Voice questions: records the microphone with Web Audio (an AudioWorklet, or a ScriptProcessor where worklets are
// missing), and on stop hands the chat a 16 kHz mono WAV made in the page (wav.js). The chat page posts it to
// /api/chat/voice and shows the answer; this module owns the button, the timer and the microphone's errors.

import { trustedScriptURL } from "./trusted.js";
import { encodeWav, resample, SPEECH_RATE } from "./wav.js";

// The server accepts 0.3–60 s (docs/voice.md); recording stops by itself at the limit.
export const MAX_SECONDS = 60;
const MIN_SECONDS = 0.5;

function clock(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// What to tell the user when the microphone cannot be opened (getUserMedia's DOMException names).
export function microphoneError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return "Microphone permission was denied. Allow the microphone for this site in the browser's settings to ask by voice, or type your question.";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, or type your question.";
    case "NotReadableError":
      return "The microphone cannot be read; another app may be using it.";
    case "NotSupportedError":
      return "This browser cannot record audio here (recording needs HTTPS and a current browser). Type your question instead.";
    default:
      return "The microphone could not be started: " + (error && error.message ? error.message : String(error));
  }
}

// One recording: microphone → (worklet | script processor) → mono Float32 blocks, capped at MAX_SECONDS.
class Recorder {
  constructor() {
    this.chunks = [];
    this.frames = 0;
    this.maxFrames = Infinity;
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new DOMException("navigator.mediaDevices is missing", "NotSupportedError");
    }
    // The browser's call processing (echo cancellation, noise suppression, automatic gain) is tuned for people
    // listening, and it smears and clips speech for the recogniser: ask for the plain signal.
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    try {
      this.context = new AudioContext();
      if (this.context.state === "suspended") await this.context.resume();
      this.rate = this.context.sampleRate;
      this.maxFrames = Math.floor(MAX_SECONDS * this.rate);
      this.source = this.context.createMediaStreamSource(this.stream);
      // The graph must reach the destination to be pulled; a silent gain keeps the user from hearing themselves.
      this.sink = this.context.createGain();
      this.sink.gain.value = 0;
      this.sink.connect(this.context.destination);
      if (this.context.audioWorklet && typeof AudioWorkletNode === "function") {
        await this.context.audioWorklet.addModule(trustedScriptURL("/assets/recorder-worklet.js"));
        this.node = new AudioWorkletNode(this.context, "omnifin-recorder", { numberOfOutputs: 1, outputChannelCount: [1] });
        this.node.port.onmessage = (event) => this.push(event.data);
      } else {
        this.node = this.context.createScriptProcessor(4096, 1, 1);
        this.node.onaudioprocess = (event) => this.push(new Float32Array(event.inputBuffer.getChannelData(0)));
      }
      this.source.connect(this.node);
      this.node.connect(this.sink);
    } catch (error) {
      this.release();
      throw error;
    }
  }

  push(block) {
    if (this.frames >= this.maxFrames) return;
    this.chunks.push(block);
    this.frames += block.length;
  }

  // The samples so far as one mono buffer, and the microphone released.
  stop() {
    const total = Math.min(this.frames, this.maxFrames);
    const samples = new Float32Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      const take = Math.min(chunk.length, total - offset);
      samples.set(take === chunk.length ? chunk : chunk.subarray(0, take), offset);
      offset += take;
      if (offset >= total) break;
    }
    const rate = this.rate;
    this.release();
    return { samples, rate };
  }

  release() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    try {
      if (this.source) this.source.disconnect();
      if (this.node) this.node.disconnect();
    } catch {
      // Already disconnected.
    }
    if (this.context && this.context.state !== "closed") this.context.close().catch(() => {});
    this.stream = this.context = this.source = this.node = this.sink = null;
    this.chunks = [];
  }
}

// The microphone button of the composer and its status line (#voice-status).
export class VoiceInput {
  // onRecorded(wavBlob) sends the recording; canStart() says whether the chat is free to take a question.
  constructor({ button, status, onRecorded, canStart }) {
    this.button = button;
    this.status = status;
    this.onRecorded = onRecorded;
    this.canStart = canStart || (() => true);
    this.recorder = null;
    this.starting = false;
    this.closed = false;
    button.addEventListener("click", () => (this.recorder ? this.finish(false) : this.begin()));
    button.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.recorder) {
        event.preventDefault();
        this.cancel("Recording discarded.");
      }
    });
    this.render(false);
  }

  get recording() {
    return Boolean(this.recorder);
  }

  render(recording) {
    const label = recording ? "Stop recording" : "Record a question";
    this.button.setAttribute("aria-pressed", recording ? "true" : "false");
    this.button.setAttribute("aria-label", label);
    this.button.title = label;
    this.button.classList.toggle("recording", recording);
  }

  setStatus(text, kind = "info") {
    this.status.textContent = text || "";
    this.status.dataset.kind = kind;
    this.status.hidden = !text;
  }

  async begin() {
    if (this.starting || !this.canStart()) return;
    this.starting = true;
    this.setStatus("Starting the microphone…");
    const recorder = new Recorder();
    try {
      await recorder.start();
    } catch (error) {
      this.starting = false;
      this.setStatus(microphoneError(error), "error");
      return;
    }
    this.starting = false;
    if (this.closed) {
      recorder.release();
      return;
    }
    this.recorder = recorder;
    this.startedAt = performance.now();
    this.render(true);
    this.tick();
    this.timer = setInterval(() => this.tick(), 250);
  }

  tick() {
    const seconds = (performance.now() - this.startedAt) / 1000;
    if (seconds >= MAX_SECONDS) {
      this.finish(true);
      return;
    }
    this.setStatus(`Recording ${clock(seconds)} of ${clock(MAX_SECONDS)}. Press the microphone again to send.`, "recording");
  }

  async finish(automatic) {
    const recorder = this.recorder;
    if (!recorder) return;
    this.recorder = null;
    clearInterval(this.timer);
    this.render(false);
    const { samples, rate } = recorder.stop();
    if (samples.length < MIN_SECONDS * rate) {
      this.setStatus("The recording was too short. Hold the question a little longer, or type it.", "error");
      return;
    }
    const wav = encodeWav(resample(samples, rate, SPEECH_RATE), SPEECH_RATE);
    this.setStatus(automatic ? `Stopped at the ${MAX_SECONDS}-second limit. Transcribing…` : "Transcribing…", "busy");
    await this.onRecorded(wav);
  }

  // Drops a running recording without sending it (Escape, leaving the page).
  cancel(message = "") {
    clearInterval(this.timer);
    if (this.recorder) this.recorder.release();
    this.recorder = null;
    this.render(false);
    this.setStatus(message);
  }

  close() {
    this.closed = true;
    this.cancel();
  }
}
