// eSpeak NG (speech out) behind a small C layer: its synthesis delivers samples through a callback into a buffer.
#include "cvoice.h"

#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>

static int16_t *tts_buffer = NULL;
static long tts_count = 0;
static long tts_capacity = 0;

static int tts_collect(short *wav, int count, espeak_EVENT *events) {
    (void)events;
    if (wav == NULL || count <= 0) return 0;
    if (tts_count + count > tts_capacity) {
        long capacity = tts_capacity == 0 ? 65536 : tts_capacity * 2;
        while (capacity < tts_count + count) capacity *= 2;
        int16_t *grown = realloc(tts_buffer, (size_t)capacity * sizeof(int16_t));
        if (grown == NULL) return 1;
        tts_buffer = grown;
        tts_capacity = capacity;
    }
    memcpy(tts_buffer + tts_count, wav, (size_t)count * sizeof(int16_t));
    tts_count += count;
    return 0;
}

int omnifin_tts_init(const char *data_path) {
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0);
    if (rate <= 0) return -1;
    espeak_SetSynthCallback(tts_collect);
    return rate;
}

long omnifin_tts_synthesize(const char *text, const char *voice, int words_per_minute, int16_t **samples) {
    tts_buffer = NULL;
    tts_count = 0;
    tts_capacity = 0;
    if (espeak_SetVoiceByName(voice) != EE_OK) return -1;
    espeak_SetParameter(espeakRATE, words_per_minute, 0);
    if (espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL) != EE_OK) return -1;
    espeak_Synchronize();
    *samples = tts_buffer;
    long count = tts_count;
    tts_buffer = NULL;
    tts_count = 0;
    tts_capacity = 0;
    return count;
}

void omnifin_tts_free(int16_t *samples) { free(samples); }
