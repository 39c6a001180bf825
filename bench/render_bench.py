"""Render benchmark: a fixed 30 s, 5-scene ad, timed per format and for all four formats.

Prints wall time, CPU time, peak memory, realtime factor, and the composition overhead: the
compose stage's wall time over the time x264 alone takes to encode the same frames with the same
settings (decoded to raw YUV first), which is the physical limit of this machine.

    python bench/render_bench.py            # everything (a few minutes on 2 cores)
    python bench/render_bench.py --quick    # 9x16 and the preview only
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BRIEF = HERE / "brief.yaml"
FORMATS = ("9x16", "4x5", "1x1", "16x9")


def _case(formats: str, mode: str, preview: bool, out: Path) -> dict[str, object]:
    """Run one render in this process and report its own resource use (called in a child)."""
    from pipeline.brief import load_brief
    from pipeline.formats import parse_formats
    from pipeline.render import Ports, RenderRequest, render
    from pipeline.render.composer import LocalComposer

    start = time.perf_counter()
    request = RenderRequest(
        brief=load_brief(BRIEF), formats=tuple(parse_formats(formats)), preview=preview
    )
    result = render(request, ports=Ports(composer=LocalComposer(mode)), out_root=out)
    wall = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_mib": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
        "stages": result.manifest.stages,
        "duration": result.manifest.outputs[0].duration,
        "outputs": [str(result.out_dir / o.path) for o in result.manifest.outputs],
        "scenes": len(result.manifest.script.scenes),
    }


def run_case(formats: str, *, mode: str = "per_format", preview: bool = False) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix="reelforge-bench-"))
    cmd = [sys.executable, __file__, "--case", formats, "--mode", mode, "--out", str(out)]
    if preview:
        cmd.append("--preview")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"case {formats} failed:\n{proc.stderr[-3000:]}")
    data: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def x264_alone(video: Path) -> float:
    """Seconds x264 takes to encode the video's frames from raw YUV with the render's settings."""
    from pipeline.media.ffmpeg import ffmpeg_exe
    from pipeline.media.probe import probe

    p = probe(video)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "frames.yuv"
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)],
            check=True,
        )  # fmt: skip
        cmd = [
            ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
            "-s", f"{p.width}x{p.height}", "-r", "30", "-i", str(raw),
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
            "-crf", "20", "-maxrate", "12000k", "-bufsize", "24000k", "-g", "60", "-keyint_min", "30",
            "-x264-params", "open-gop=0", "-f", "mp4", str(Path(tmp) / "x264.mp4"),
        ]  # fmt: skip
        subprocess.run(cmd, check=True)  # warm the page cache and the binary
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        return time.perf_counter() - start


def _row(name: str, r: dict[str, object], alone: float | None) -> str:
    stages = r["stages"]
    assert isinstance(stages, dict)
    wall, cpu, peak = float(r["wall"]), float(r["cpu"]), float(r["peak_mib"])  # type: ignore[arg-type]
    compose = float(stages["compose"])
    dur = float(r["duration"])  # type: ignore[arg-type]
    rt = wall / dur
    over = f"{compose / alone:5.2f}" if alone else "    -"
    x = f"{alone:6.2f}" if alone else "     -"
    return f"{name:<22}{wall:8.2f}{cpu:8.2f}{peak:9.0f}{rt:8.2f}{compose:9.2f}{x:>8}{over:>9}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--mode", default="per_format")
    parser.add_argument("--out")
    parser.add_argument("--preview", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case, args.mode, args.preview, Path(args.out))))
        return

    header = f"{'case':<22}{'wall s':>8}{'cpu s':>8}{'peak MiB':>9}{'rt x':>8}{'compose':>9}{'x264 s':>8}{'overhead':>9}"
    print(f"reelforge render bench: {BRIEF.name}, 30 s ad, 2 cores\n")
    print(header)
    results: dict[str, dict[str, object]] = {}
    alone: dict[str, float] = {}
    formats = FORMATS[:1] if args.quick else FORMATS
    for fmt in formats:
        r = run_case(fmt)
        results[fmt] = r
        outputs = r["outputs"]
        assert isinstance(outputs, list)
        alone[fmt] = x264_alone(Path(outputs[0]))
        print(_row(fmt, r, alone[fmt]), flush=True)
    if not args.quick:
        total_alone = sum(alone.values())
        for mode in ("per_format", "single"):
            r = run_case(",".join(FORMATS), mode=mode)
            results[f"all4 {mode}"] = r
            print(_row(f"all four ({mode})", r, total_alone), flush=True)
    preview = run_case("9x16", preview=True)
    print(_row("preview 9x16 360x640", preview, None))
    print()
    base = results["9x16"]
    print(f"scenes in the ad: {base['scenes']}")
    print(
        f"9x16 composition overhead: {float(base['stages']['compose']) / alone['9x16']:.2f} (target <= 1.2)"
    )  # type: ignore[index]
    if not args.quick:
        for mode in ("per_format", "single"):
            r = results[f"all4 {mode}"]
            print(
                f"all four ({mode}) / 9x16 wall: {float(r['wall']) / float(base['wall']):.2f} (target <= 3.5), "  # type: ignore[arg-type]
                f"peak {float(r['peak_mib']):.0f} MiB (target < 1024)"  # type: ignore[arg-type]
            )
    print(f"preview wall: {float(preview['wall']):.2f}s (target <= 3 s)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
