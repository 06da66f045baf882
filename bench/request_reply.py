"""Our request/reply client against the raw aiokafka ping-pong, in one run.

Part 1, the client alone: one raw aiokafka echo responder (its own process) answers both
the raw ping-pong (the floor) and our client, on the same request topic; the two take turns
in rounds so that background noise hits both alike. `floor_*` and `rr_*` figures come from
here (targets: rr p50/p99 within 1.3x of the floor at 1 in flight, >= 2,000 req/s at 500).

Part 2, as services answer: a FastStream subscriber responder (at-least-once, one consumer
per partition) in its own process; `fs_*` figures are what a caller of a service sees.

Run: `.venv/bin/python bench/request_reply.py [--requests N] [--samples N]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _common import (
    BOOTSTRAP,
    RawPingPong,
    percentiles_ms,
    print_figures,
    start_responder,
    stop,
    topics,
)

from chat_runtime.request_reply import RequestReplyClient

LEVELS = (1, 50, 500)
ROUNDS = 8


async def timed_requests(
    client: RequestReplyClient, topic: str, in_flight: int, total: int
) -> tuple[list[float], float]:
    """`total` requests with `in_flight` outstanding at any time: (latencies, elapsed s)."""
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for i in queue:
            start = time.perf_counter()
            await client.request(topic, {"i": i, "pad": "x" * 150}, key=str(i).encode(), timeout=30)
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies, time.perf_counter() - started


async def client_vs_floor(samples: int, requests: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    # Six partitions, as services' request topics have: one partition would make the echo's
    # single fetch stream, not the client, the limit at 500 in flight.
    async with topics("rr", partitions=6) as (topic,), topics("pong") as (pong,):
        proc = start_responder("raw", topic)
        floor = RawPingPong(topic, pong)
        await floor.start()
        try:
            async with RequestReplyClient(BOOTSTRAP, name="bench") as client:
                await floor.round_trips(200)
                await timed_requests(client, topic, 1, 200)
                floor_times: list[float] = []
                rr_times: list[float] = []
                for _ in range(ROUNDS):  # interleaved, so noise hits both alike
                    floor_times += await floor.round_trips(samples // ROUNDS)
                    rr_times += (await timed_requests(client, topic, 1, samples // ROUNDS))[0]
                figures["floor_p50_ms"], figures["floor_p99_ms"] = percentiles_ms(floor_times)
                figures["rr_p50_ms"], figures["rr_p99_ms"] = percentiles_ms(rr_times)
                figures["rr_rps_1"] = round(1 / statistics.fmean(rr_times))
                for level in LEVELS[1:]:
                    latencies, elapsed = await timed_requests(client, topic, level, requests)
                    figures[f"rr_rps_{level}"] = round(requests / elapsed)
                    figures[f"rr_p50_ms_{level}"], figures[f"rr_p99_ms_{level}"] = percentiles_ms(
                        latencies
                    )
        finally:
            await floor.stop()
            stop(proc)
    return figures


async def through_faststream(samples: int, requests: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with topics("rr", partitions=6) as (topic,):
        proc = start_responder("faststream", topic)
        try:
            async with RequestReplyClient(BOOTSTRAP, name="bench") as client:
                await timed_requests(client, topic, 1, 200)
                for level in LEVELS:
                    total = samples if level == 1 else requests
                    latencies, elapsed = await timed_requests(client, topic, level, total)
                    figures[f"fs_rps_{level}"] = round(total / elapsed)
                    figures[f"fs_p50_ms_{level}"], figures[f"fs_p99_ms_{level}"] = percentiles_ms(
                        latencies
                    )
        finally:
            stop(proc)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=4000)
    args = parser.parse_args()

    figures: dict[str, object] = {"bench": "request_reply"}
    part1 = await client_vs_floor(args.samples, args.requests)
    part1["rr_p50_ratio"] = round(part1["rr_p50_ms"] / part1["floor_p50_ms"], 2)
    part1["rr_p99_ratio"] = round(part1["rr_p99_ms"] / part1["floor_p99_ms"], 2)
    print(
        f"1 in flight: floor p50 {part1['floor_p50_ms']} / p99 {part1['floor_p99_ms']} ms; "
        f"ours p50 {part1['rr_p50_ms']} / p99 {part1['rr_p99_ms']} ms "
        f"(x{part1['rr_p50_ratio']} / x{part1['rr_p99_ratio']})"
    )
    for level in LEVELS[1:]:
        print(f"{level} in flight, raw echo: {part1[f'rr_rps_{level}']:,} req/s")
    part2 = await through_faststream(args.samples, args.requests)
    for level in LEVELS:
        print(
            f"{level} in flight, FastStream responder: {part2[f'fs_rps_{level}']:,} req/s, "
            f"p50 {part2[f'fs_p50_ms_{level}']} ms, p99 {part2[f'fs_p99_ms_{level}']} ms"
        )
    figures.update(part1)
    figures.update(part2)
    print_figures(figures)


if __name__ == "__main__":
    asyncio.run(main())
