// Audio worklet for voice questions: mixes the microphone input down to mono and hands it to the page in blocks of
// about 40 ms (posting every 128-frame quantum would flood the message port). Loaded by voice.js, which sends
// {type: "flush"} when the recording stops: the worklet answers with the partly filled last block as
// {type: "flushed", samples}, after every full block (messages on a port arrive in order), so the end of the
// question is not cut off.

const BLOCK = 2048;

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(BLOCK);
    this.filled = 0;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "flush") this.flush();
    };
  }

  flush() {
    const samples = this.block.slice(0, this.filled);
    this.filled = 0;
    this.port.postMessage({ type: "flushed", samples }, [samples.buffer]);
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const frames = channels[0].length;
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (const channel of channels) sum += channel[i];
        this.block[this.filled++] = sum / channels.length;
        if (this.filled === BLOCK) {
          this.port.postMessage(this.block, [this.block.buffer]);
          this.block = new Float32Array(BLOCK);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("omnifin-recorder", RecorderProcessor);
