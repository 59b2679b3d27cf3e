/*
 * graph.cu - CUDA graphs: the ops of one decode step captured once from the context's stream and replayed.
 *
 * begin starts a capture in relaxed mode (so that matmul may still grow its scratch with cudaMalloc while
 * capturing; an outgrown scratch buffer is kept until the context dies, since the graph may still point at it).
 * end instantiates the captured graph; the context keeps a list of its graphs and destroys the leftovers itself.
 * No kernels here.
 */
#include <stdlib.h>

#include "g4j_cuda_internal.h"

struct g4j_cuda_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

void g4j_cuda_graph_release(g4j_cuda_graph *g) {
    if (!g) return;
    if (g->exec) cudaGraphExecDestroy(g->exec);
    if (g->graph) cudaGraphDestroy(g->graph);
    free(g);
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_graph_begin(g4j_cuda_ctx *ctx) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_graph_begin");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_graph_begin: a capture is already under way on this context");
    G4J_CUDA_CHECK(cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeRelaxed), "g4j_cuda_graph_begin: cudaStreamBeginCapture");
    ctx->capturing = 1;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_graph_end(g4j_cuda_ctx *ctx, g4j_cuda_graph **out) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_graph_end");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(out, "g4j_cuda_graph_end: out is NULL");
    *out = NULL;
    G4J_ARG_CHECK(ctx->capturing, "g4j_cuda_graph_end: no capture under way (call g4j_cuda_graph_begin first)");
    ctx->capturing = 0;
    cudaGraph_t graph = NULL;
    cudaError_t err = cudaStreamEndCapture(ctx->stream, &graph);
    if (err != cudaSuccess) {
        if (graph) cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        return g4j_cuda_fail(G4J_E_DEVICE, "g4j_cuda_graph_end: the capture failed (an op inside it failed to launch?): %s (%s)",
                             cudaGetErrorString(err), cudaGetErrorName(err));
    }
    g4j_cuda_graph *g = (g4j_cuda_graph *)calloc(1, sizeof *g);
    if (!g || !g4j_cuda_ptr_push((void ***)&ctx->graphs, &ctx->n_graphs, &ctx->cap_graphs, g)) {
        free(g);
        cudaGraphDestroy(graph);
        return g4j_cuda_fail(G4J_E_OUT_OF_MEMORY, "g4j_cuda_graph_end: out of host memory");
    }
    g->graph = graph;
    err = cudaGraphInstantiate(&g->exec, graph, 0);
    if (err != cudaSuccess) {
        g->exec = NULL;
        g4j_cuda_graph_destroy(ctx, g);
        return g4j_cuda_fail(G4J_E_DEVICE, "g4j_cuda_graph_end: cudaGraphInstantiate failed: %s (%s)", cudaGetErrorString(err),
                             cudaGetErrorName(err));
    }
    *out = g;
    return G4J_OK;
}

extern "C" G4J_CUDA_API g4j_status g4j_cuda_graph_launch(g4j_cuda_ctx *ctx, g4j_cuda_graph *graph) {
    g4j_status st = g4j_cuda_enter(ctx, "g4j_cuda_graph_launch");
    if (st != G4J_OK) return st;
    G4J_ARG_CHECK(graph, "g4j_cuda_graph_launch: graph is NULL");
    G4J_ARG_CHECK(!ctx->capturing, "g4j_cuda_graph_launch: not allowed while a graph is being captured");
    int known = 0;
    for (int64_t i = 0; i < ctx->n_graphs; i++) known |= ctx->graphs[i] == graph;
    G4J_ARG_CHECK(known, "g4j_cuda_graph_launch: graph %p does not belong to this context", (void *)graph);
    G4J_CUDA_CHECK(cudaGraphLaunch(graph->exec, ctx->stream), "g4j_cuda_graph_launch: cudaGraphLaunch");
    return G4J_OK;
}

extern "C" G4J_CUDA_API void g4j_cuda_graph_destroy(g4j_cuda_ctx *ctx, g4j_cuda_graph *graph) {
    if (!ctx || !graph) return;
    for (int64_t i = 0; i < ctx->n_graphs; i++) {
        if (ctx->graphs[i] == graph) {
            ctx->graphs[i] = ctx->graphs[--ctx->n_graphs];
            cudaSetDevice(ctx->device);
            if (!ctx->capturing) cudaStreamSynchronize(ctx->stream); /* a launched replay may still be running */
            g4j_cuda_graph_release(graph);
            return;
        }
    }
}
