#ifndef OMNIFIN_CWHISPER_H
#define OMNIFIN_CWHISPER_H

#include <stddef.h>

/// A loaded Whisper model (whisper.cpp's context without a decoding state): read once, shared by every state.
typedef struct omnifin_whisper_model omnifin_whisper_model;
/// One decoding state of a model: the buffers of one transcription at a time (not thread-safe: one per thread).
typedef struct omnifin_whisper_state omnifin_whisper_state;

/// Loads a ggml Whisper model file. whisper.cpp's informational log is silenced; its warnings and errors go to
/// stderr. Returns NULL on failure, with a message in `error`.
omnifin_whisper_model *omnifin_whisper_load(const char *path, char *error, size_t error_size);
void omnifin_whisper_model_free(omnifin_whisper_model *model);
/// Whether the model understands languages other than English.
int omnifin_whisper_is_multilingual(const omnifin_whisper_model *model);
/// The number of tokens `text` makes in the model's vocabulary, or -1.
int omnifin_whisper_token_count(const omnifin_whisper_model *model, const char *text);

omnifin_whisper_state *omnifin_whisper_state_new(omnifin_whisper_model *model);
void omnifin_whisper_state_free(omnifin_whisper_state *state);

typedef struct omnifin_whisper_options {
    /// ISO 639-1 code ("en", "de", "fr") or "auto".
    const char *language;
    /// Text the decoder reads as what was said before (spellings of names it should prefer), or NULL.
    const char *initial_prompt;
    int threads;
    /// 1: greedy; more: beam search with this many beams.
    int beam_size;
    /// Encoder frames (50 per second of audio, at most 1500 = 30 s); 0: the whole 30 s window.
    int audio_context;
} omnifin_whisper_options;

typedef struct omnifin_whisper_result {
    /// UTF-8, NUL-terminated, owned by the result (free it with omnifin_whisper_result_free).
    char *text;
    /// Text tokens decoded (timestamps and special tokens excluded).
    int tokens;
    /// The mean of their log probabilities, and the least probable one's probability.
    float mean_log_probability;
    float min_probability;
    /// The model's probability that the audio holds no speech.
    float no_speech_probability;
    /// The language decoded (ISO 639-1).
    char language[8];
} omnifin_whisper_result;

/// Transcribes 16 kHz mono float samples (-1…1). Returns 0 on success, else -1 with a message in `error`.
int omnifin_whisper_transcribe(omnifin_whisper_state *state, const float *samples, int count, const omnifin_whisper_options *options,
                               omnifin_whisper_result *result, char *error, size_t error_size);
void omnifin_whisper_result_free(omnifin_whisper_result *result);

#endif
