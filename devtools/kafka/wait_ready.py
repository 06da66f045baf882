"""Wait until a Kafka broker answers a metadata request: `wait_ready.py HOST:PORT SECONDS`."""

import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def ready(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False
    finally:
        await admin.close()


def main() -> int:
    logging.disable(logging.CRITICAL)  # aiokafka logs every refused connect while the JVM starts
    bootstrap, seconds = sys.argv[1], float(sys.argv[2])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if asyncio.run(ready(bootstrap)):
            return 0
        time.sleep(0.5)
    print(f"kafka at {bootstrap} did not answer within {seconds:.0f}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
