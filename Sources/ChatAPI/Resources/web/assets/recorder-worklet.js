// Audio worklet for voice questions: mixes the microphone input down to mono and hands it to the page in blocks of
// about 40 ms (posting every 128-frame quantum would flood the message port). Loaded by voice.js.

const BLOCK = 2048;

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(BLOCK);
    this.filled = 0;
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
