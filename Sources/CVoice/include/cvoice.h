#ifndef OMNIFIN_CVOICE_H
#define OMNIFIN_CVOICE_H

#include <stddef.h>
#include <stdint.h>

/// Initialises eSpeak NG for synchronous synthesis; returns its sample rate, or -1.
int omnifin_tts_init(const char *data_path);

/// Synthesises UTF-8 text with a voice ("en-us") at `words_per_minute`; returns the number of 16-bit samples
/// written to a new buffer in `samples` (free it with omnifin_tts_free), or -1. Not thread-safe: one call at a time.
long omnifin_tts_synthesize(const char *text, const char *voice, int words_per_minute, int16_t **samples);

void omnifin_tts_free(int16_t *samples);

#endif
