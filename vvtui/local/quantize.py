"""`python -m vvtui.local.quantize SOURCE TARGET VARIANT`: one llama.cpp quantization.

Run as a child process by vvtui.local.prepare, so llama.cpp's log lines land in a file and a
crash in its C code ends this process only. Exit code 0 on success, llama.cpp's status otherwise.
"""

from __future__ import annotations

import ctypes
import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m vvtui.local.quantize SOURCE TARGET VARIANT", file=sys.stderr)
        return 2
    source, target, variant = argv
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{variant}", None)
    if ftype is None:
        print(f"llama_cpp {llama_cpp.__version__} has no file type {variant}", file=sys.stderr)
        return 2
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    # The source is already quantized (Q4_1); without this llama.cpp refuses to re-quantize.
    params.allow_requantize = True
    params.nthread = max(1, min(2, os.cpu_count() or 1))
    print(f"llama_cpp {llama_cpp.__version__}: {source} -> {target} as {variant}", flush=True)
    status = llama_cpp.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))
    print(f"llama_model_quantize returned {status}", flush=True)
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
