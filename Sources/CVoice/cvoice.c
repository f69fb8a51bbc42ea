#include "cvoice.h"

#include <pocketsphinx.h>
#include <ngram_model.h>
#include <logmath.h>
#include <feat.h>
#include <cmn.h>
#include <espeak-ng/speak_lib.h>
#include <err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/* PocketSphinx logs through one process-wide file pointer; `-logfn` per decoder would close it under another
   decoder's feet. Logging is switched off once, for all of them. */
static void quiet(void) { err_set_logfp(NULL); }

struct omnifin_stt {
    ps_decoder_t *decoder;
    cmd_ln_t *config;
    /* The cepstral mean the decoder starts from (the model's -cmninit), restored before every utterance. */
    mfcc_t *initial_mean;
};

omnifin_stt *omnifin_stt_create(const char *hmm, const char *lm, const char *dict, const char *const *options, int option_count, char *error,
                                size_t error_size) {
    pthread_once(&quiet_once, quiet);
    if (option_count < 0 || option_count % 2 != 0 || option_count > 64) {
        snprintf(error, error_size, "PocketSphinx options come in name/value pairs (got %d strings)", option_count);
        return NULL;
    }
    char *argv[70] = {"-hmm", (char *)hmm, "-lm", (char *)lm, "-dict", (char *)dict};
    for (int i = 0; i < option_count; i++) argv[6 + i] = (char *)options[i];
    cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), 6 + option_count, argv, 1);
    if (config == NULL) {
        snprintf(error, error_size, "PocketSphinx rejected its configuration (model %s, language model %s, dictionary %s, options given: %d)", hmm, lm, dict,
                 option_count);
        return NULL;
    }
    ps_decoder_t *decoder = ps_init(config);
    if (decoder == NULL) {
        cmd_ln_free_r(config);
        snprintf(error, error_size, "PocketSphinx could not load the model %s with the language model %s", hmm, lm);
        return NULL;
    }
    cmn_t *cmn = ps_get_feat(decoder)->cmn_struct;
    omnifin_stt *stt = malloc(sizeof(omnifin_stt));
    mfcc_t *initial_mean = cmn == NULL ? NULL : malloc((size_t)cmn->veclen * sizeof(mfcc_t));
    if (stt == NULL || (cmn != NULL && initial_mean == NULL)) {
        free(stt);
        free(initial_mean);
        ps_free(decoder);
        cmd_ln_free_r(config);
        snprintf(error, error_size, "out of memory for a PocketSphinx decoder");
        return NULL;
    }
    if (cmn != NULL) cmn_live_get(cmn, initial_mean);
    stt->decoder = decoder;
    stt->config = config;
    stt->initial_mean = initial_mean;
    return stt;
}

int omnifin_stt_decode(omnifin_stt *stt, const int16_t *samples, size_t count, char *out, size_t out_size, int32_t *score) {
    if (out_size == 0) return -1;
    out[0] = 0;
    /* Each recording is a stream of its own: neither the noise estimate nor the live cepstral mean of whoever used
       this decoder before carries over (PocketSphinx updates the mean after every utterance and keeps it), so a
       transcript depends on its recording alone, whichever decoder of the pool it gets. */
    if (ps_start_stream(stt->decoder) < 0) return -1;
    cmn_t *cmn = ps_get_feat(stt->decoder)->cmn_struct;
    if (cmn != NULL && stt->initial_mean != NULL) cmn_live_set(cmn, stt->initial_mean);
    if (ps_start_utt(stt->decoder) < 0) return -1;
    if (ps_process_raw(stt->decoder, samples, count, 0, 1) < 0) {
        ps_end_utt(stt->decoder);
        return -1;
    }
    if (ps_end_utt(stt->decoder) < 0) return -1;
    int32 best = 0;
    char const *hypothesis = ps_get_hyp(stt->decoder, &best);
    if (score) *score = best;
    if (hypothesis) {
        strncpy(out, hypothesis, out_size - 1);
        out[out_size - 1] = 0;
    }
    return 0;
}

void omnifin_stt_free(omnifin_stt *stt) {
    if (stt == NULL) return;
    ps_free(stt->decoder);
    cmd_ln_free_r(stt->config);
    free(stt->initial_mean);
    free(stt);
}

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

long omnifin_tts_phonemes(const char *text, const char *voice, char *out, size_t out_size) {
    if (out_size == 0) return -1;
    out[0] = 0;
    if (espeak_SetVoiceByName(voice) != EE_OK) return -1;
    size_t length = 0;
    const void *position = text;
    /* Bits 8-23 of the phoneme mode: the separator between phonemes; bit 1 clear: ASCII names. One call per clause. */
    while (position != NULL) {
        const char *phonemes = espeak_TextToPhonemes(&position, espeakCHARS_UTF8, '_' << 8);
        if (phonemes == NULL || phonemes[0] == 0) continue;
        size_t size = strlen(phonemes);
        if (length > 0 && length + 1 < out_size) out[length++] = ' ';
        if (length + size >= out_size) size = out_size - 1 - length;
        memcpy(out + length, phonemes, size);
        length += size;
        out[length] = 0;
    }
    return (long)length;
}

struct omnifin_lm {
    ngram_model_t *model;
    logmath_t *lmath;
};

omnifin_lm *omnifin_lm_open(const char *path, char *error, size_t error_size) {
    pthread_once(&quiet_once, quiet);
    /* PocketSphinx's base; probabilities come back as integer logarithms in it. */
    logmath_t *lmath = logmath_init(1.0001, 0, 0);
    if (lmath == NULL) {
        snprintf(error, error_size, "sphinxbase could not set up its logarithms");
        return NULL;
    }
    /* The model keeps one reference, this handle another for the conversions. No configuration: no language weight,
       insertion penalty or unigram weight is applied, so the probabilities are the file's. */
    ngram_model_t *model = ngram_model_read(NULL, path, NGRAM_AUTO, logmath_retain(lmath));
    omnifin_lm *lm = model == NULL ? NULL : malloc(sizeof(omnifin_lm));
    if (lm == NULL) {
        if (model != NULL) ngram_model_free(model);
        logmath_free(lmath);
        snprintf(error, error_size, "sphinxbase could not read the language model %s", path);
        return NULL;
    }
    lm->model = model;
    lm->lmath = lmath;
    return lm;
}

void omnifin_lm_free(omnifin_lm *lm) {
    if (lm == NULL) return;
    ngram_model_free(lm->model);
    logmath_free(lm->lmath);
    free(lm);
}

int32_t omnifin_lm_order(omnifin_lm *lm) { return ngram_model_get_size(lm->model); }

int32_t omnifin_lm_id(omnifin_lm *lm, const char *word) {
    int32 id = ngram_wid(lm->model, word);
    if (id == NGRAM_INVALID_WID || id == ngram_unknown_wid(lm->model)) return -1;
    return id;
}

double omnifin_lm_probability(omnifin_lm *lm, const int32_t *words, int32_t count) {
    if (count < 1 || count > ngram_model_get_size(lm->model) || count > 8) return 0;
    int32 size = (int32)ngram_model_get_counts(lm->model)[0];
    for (int32_t i = 0; i < count; i++)
        if (words[i] < 0 || words[i] >= size) return 0;
    /* sphinxbase takes the history most recent word first. */
    int32 history[8];
    for (int32_t i = 0; i < count - 1; i++) history[i] = words[count - 2 - i];
    int32 used = 0;
    return logmath_exp(lm->lmath, ngram_ng_prob(lm->model, words[count - 1], history, count - 1, &used));
}
