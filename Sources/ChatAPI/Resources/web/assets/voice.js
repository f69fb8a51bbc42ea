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
    this.flushed = null; // resolves stop()'s wait for the worklet's last block
  }

  // Call it straight from the click (its first part runs before any await): Safari on iOS leaves an AudioContext
  // made or resumed outside a user gesture suspended, and the wait for the microphone permission ends the gesture.
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new DOMException("navigator.mediaDevices is missing", "NotSupportedError");
    }
    this.context = new AudioContext();
    // Settled either way, so a refused microphone does not leave a rejected promise behind.
    const resumed = this.context.resume().then(() => null, (error) => error);
    try {
      // The browser's call processing (echo cancellation, noise suppression, automatic gain) is tuned for people
      // listening, and it smears and clips speech for the recogniser: ask for the plain signal.
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const failure = await resumed;
      if (failure) throw failure;
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
        this.node.port.onmessage = ({ data }) => {
          if (data instanceof Float32Array) {
            this.push(data);
          } else if (data && data.type === "flushed") {
            this.push(data.samples);
            if (this.flushed) this.flushed();
          }
        };
        this.worklet = true;
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

  // Asks the worklet for its partly filled last block (up to 2048 samples, 40 ms of the question's end) and waits
  // for it; a worklet that does not answer (a closed context) costs only that block.
  flush() {
    if (!this.worklet || !this.node) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 500);
      this.flushed = () => {
        clearTimeout(timer);
        resolve();
      };
      this.node.port.postMessage({ type: "flush" });
    });
  }

  // The samples so far as one mono buffer, and the microphone released.
  async stop() {
    await this.flush();
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
    this.stream = this.context = this.source = this.node = this.sink = this.flushed = null;
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
    this.stopping = null; // the recorder whose last samples are being collected
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
    return Boolean(this.recorder || this.stopping);
  }

  // The server cannot take voice questions (no speech recognition or synthesis): the button stays off and its
  // title says why. The chat page shows the reason next to the composer too.
  setUnavailable(reason) {
    this.unavailable = reason;
    this.cancel();
    this.button.disabled = true;
  }

  render(recording) {
    const label = this.unavailable ? "Voice questions are not available" : recording ? "Stop recording" : "Record a question";
    this.button.setAttribute("aria-pressed", recording ? "true" : "false");
    this.button.setAttribute("aria-label", label);
    this.button.title = this.unavailable || label;
    this.button.classList.toggle("recording", recording);
  }

  setStatus(text, kind = "info") {
    this.status.textContent = text || "";
    this.status.dataset.kind = kind;
    this.status.hidden = !text;
  }

  async begin() {
    if (this.unavailable || this.starting || this.stopping || !this.canStart()) return;
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
    if (this.closed || this.unavailable) {
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
    this.stopping = recorder;
    const { samples, rate } = await recorder.stop();
    if (this.stopping !== recorder) return; // cancelled or closed meanwhile
    this.stopping = null;
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
    this.stopping = null;
    this.render(false);
    this.setStatus(message);
  }

  close() {
    this.closed = true;
    this.cancel();
  }
}
