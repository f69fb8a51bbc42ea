#ifndef OMNIFIN_CVOICE_H
#define OMNIFIN_CVOICE_H

#include <stddef.h>
#include <stdint.h>

/// One PocketSphinx decoder (not thread-safe: use one per thread).
typedef struct omnifin_stt omnifin_stt;

/// Loads the acoustic model folder, a language model (ARPA text or binary) and a pronunciation dictionary, with
/// further PocketSphinx options as name/value pairs (`-lw 6.5`, `-beam 1e-60` …; `option_count` strings in all).
/// Returns NULL on failure, with a message in `error`.
omnifin_stt *omnifin_stt_create(const char *hmm, const char *lm, const char *dict, const char *const *options, int option_count, char *error,
                                size_t error_size);

/// Decodes one utterance of 16 kHz mono 16-bit samples into `out` (UTF-8, NUL-terminated), as a stream of its own
/// (nothing of earlier utterances carries over).
/// Returns 0 on success, -1 on failure; `score` receives the path score (larger is better).
int omnifin_stt_decode(omnifin_stt *stt, const int16_t *samples, size_t count, char *out, size_t out_size, int32_t *score);

void omnifin_stt_free(omnifin_stt *stt);

/// Initialises eSpeak NG for synchronous synthesis; returns its sample rate, or -1.
int omnifin_tts_init(const char *data_path);

/// Synthesises UTF-8 text with a voice ("en-us") at `words_per_minute`; returns the number of 16-bit samples
/// written to a new buffer in `samples` (free it with omnifin_tts_free), or -1. Not thread-safe: one call at a time.
long omnifin_tts_synthesize(const char *text, const char *voice, int words_per_minute, int16_t **samples);

void omnifin_tts_free(int16_t *samples);

/// The phonemes of UTF-8 text in eSpeak's ASCII notation (as `espeak-ng -x --sep=_`: phonemes joined by `_`, words
/// and clauses by spaces) for a voice ("en-us"), without synthesising it. Needs omnifin_tts_init first; not
/// thread-safe (shares eSpeak NG's global state with omnifin_tts_synthesize). Returns the length written to `out`
/// (NUL-terminated, cut at `out_size` - 1), or -1 when the voice is unknown.
long omnifin_tts_phonemes(const char *text, const char *voice, char *out, size_t out_size);

/// A backoff n-gram model read through sphinxbase (ARPA text, DMP or the trie binary `en-us.lm.bin`), to look up
/// probabilities. Not thread-safe (the trie caches its last look-up): one thread at a time.
typedef struct omnifin_lm omnifin_lm;

/// Reads a model; NULL on failure, with a message in `error`.
omnifin_lm *omnifin_lm_open(const char *path, char *error, size_t error_size);

void omnifin_lm_free(omnifin_lm *lm);

/// The model's order (3 for a trigram model).
int32_t omnifin_lm_order(omnifin_lm *lm);

/// The id of a word, or -1 when the model does not know it.
int32_t omnifin_lm_id(omnifin_lm *lm, const char *word);

/// P(last word | the words before it) as the model gives it, backing off where it lists no such n-gram; the word
/// ids oldest first, `count` from 1 to the order. 0 when an id is -1 or out of range, or `count` is.
double omnifin_lm_probability(omnifin_lm *lm, const int32_t *words, int32_t count);

#endif
