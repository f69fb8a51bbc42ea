// A small C layer over whisper.cpp's API: Swift sees only cwhisper.h, so no target but this one needs whisper.cpp's
// headers, and the parameter struct (callbacks, nested structs) is filled in C.
#include "cwhisper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <whisper.h>

struct omnifin_whisper_model {
    struct whisper_context *context;
};

struct omnifin_whisper_state {
    struct whisper_context *context;
    struct whisper_state *state;
};

static void omnifin_whisper_log(enum ggml_log_level level, const char *text, void *user_data) {
    (void)user_data;
    static enum ggml_log_level last = GGML_LOG_LEVEL_NONE;
    if (level != GGML_LOG_LEVEL_CONT) last = level;
    if (last == GGML_LOG_LEVEL_WARN || last == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static void omnifin_whisper_error(char *error, size_t size, const char *message, const char *detail) {
    if (error && size > 0) snprintf(error, size, "%s%s", message, detail ? detail : "");
}

omnifin_whisper_model *omnifin_whisper_load(const char *path, char *error, size_t error_size) {
    whisper_log_set(omnifin_whisper_log, NULL);
    FILE *file = fopen(path, "rb");
    if (!file) {
        omnifin_whisper_error(error, error_size, "cannot open the Whisper model ", path);
        return NULL;
    }
    fclose(file);
    struct whisper_context_params params = whisper_context_default_params();
    params.use_gpu = false;
    struct whisper_context *context = whisper_init_from_file_with_params_no_state(path, params);
    if (!context) {
        omnifin_whisper_error(error, error_size, "whisper.cpp could not load the model ", path);
        return NULL;
    }
    omnifin_whisper_model *model = calloc(1, sizeof *model);
    if (!model) {
        whisper_free(context);
        omnifin_whisper_error(error, error_size, "out of memory", NULL);
        return NULL;
    }
    model->context = context;
    return model;
}

void omnifin_whisper_model_free(omnifin_whisper_model *model) {
    if (!model) return;
    whisper_free(model->context);
    free(model);
}

int omnifin_whisper_is_multilingual(const omnifin_whisper_model *model) { return whisper_is_multilingual(model->context); }

int omnifin_whisper_token_count(const omnifin_whisper_model *model, const char *text) {
    // A token is at least one byte: a buffer of one token per byte always suffices.
    size_t length = strlen(text);
    whisper_token *tokens = malloc((length + 1) * sizeof *tokens);
    if (!tokens) return -1;
    int count = whisper_tokenize(model->context, text, tokens, (int)length + 1);
    free(tokens);
    return count;
}

omnifin_whisper_state *omnifin_whisper_state_new(omnifin_whisper_model *model) {
    struct whisper_state *state = whisper_init_state(model->context);
    if (!state) return NULL;
    omnifin_whisper_state *made = calloc(1, sizeof *made);
    if (!made) {
        whisper_free_state(state);
        return NULL;
    }
    made->context = model->context;
    made->state = state;
    return made;
}

void omnifin_whisper_state_free(omnifin_whisper_state *state) {
    if (!state) return;
    whisper_free_state(state->state);
    free(state);
}

int omnifin_whisper_transcribe(omnifin_whisper_state *state, const float *samples, int count, const omnifin_whisper_options *options,
                               omnifin_whisper_result *result, char *error, size_t error_size) {
    memset(result, 0, sizeof *result);
    int beams = options->beam_size > 1 ? options->beam_size : 1;
    struct whisper_full_params params =
        whisper_full_default_params(beams > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
    params.n_threads = options->threads > 0 ? options->threads : 1;
    params.beam_search.beam_size = beams;
    params.greedy.best_of = beams;
    params.language = options->language && *options->language ? options->language : "en";
    params.detect_language = false;
    params.translate = false;
    params.no_context = true;
    params.no_timestamps = true;
    params.single_segment = true;
    params.print_progress = false;
    params.print_realtime = false;
    params.print_special = false;
    params.print_timestamps = false;
    params.suppress_blank = true;
    params.suppress_nst = true;
    params.initial_prompt = options->initial_prompt && *options->initial_prompt ? options->initial_prompt : NULL;
    params.audio_ctx = options->audio_context > 0 ? options->audio_context : 0;

    if (whisper_full_with_state(state->context, state->state, params, samples, count) != 0) {
        omnifin_whisper_error(error, error_size, "whisper.cpp could not transcribe the audio", NULL);
        return -1;
    }
    int segments = whisper_full_n_segments_from_state(state->state);
    size_t length = 0;
    for (int i = 0; i < segments; i++) length += strlen(whisper_full_get_segment_text_from_state(state->state, i));
    result->text = malloc(length + 1);
    if (!result->text) {
        omnifin_whisper_error(error, error_size, "out of memory", NULL);
        return -1;
    }
    result->text[0] = 0;
    whisper_token eot = whisper_token_eot(state->context);
    double log_sum = 0;
    float min_p = 1;
    float no_speech = 0;
    for (int i = 0; i < segments; i++) {
        strcat(result->text, whisper_full_get_segment_text_from_state(state->state, i));
        float segment_no_speech = whisper_full_get_segment_no_speech_prob_from_state(state->state, i);
        if (segment_no_speech > no_speech) no_speech = segment_no_speech;
        int tokens = whisper_full_n_tokens_from_state(state->state, i);
        for (int t = 0; t < tokens; t++) {
            whisper_token_data data = whisper_full_get_token_data_from_state(state->state, i, t);
            if (data.id >= eot) continue;  // end of text, timestamps and the other special tokens
            result->tokens += 1;
            log_sum += data.plog;
            if (data.p < min_p) min_p = data.p;
        }
    }
    result->mean_log_probability = result->tokens > 0 ? (float)(log_sum / result->tokens) : 0;
    result->min_probability = result->tokens > 0 ? min_p : 0;
    result->no_speech_probability = no_speech;
    const char *language = whisper_lang_str(whisper_full_lang_id_from_state(state->state));
    snprintf(result->language, sizeof result->language, "%s", language ? language : "");
    return 0;
}

void omnifin_whisper_result_free(omnifin_whisper_result *result) {
    if (!result) return;
    free(result->text);
    result->text = NULL;
}
