"""OpenAI's Files and Batches endpoints through the openai SDK, as plain dicts: upload an input
file, create, retrieve, list and cancel batches, download a result file. Errors map as the
online path maps them (pipeline/backends/openai/backend.py): 429, 5xx and timeouts are
transient (asked again), other refusals are BackendErrors."""

from __future__ import annotations

from typing import Any

import openai

from pipeline.backends.openai.backend import server_message
from pipeline.errors import BackendError, ConfigError, TransientBackendError

COMPLETION_WINDOW = "24h"


class BatchAPI:
    def __init__(self, backend: Any):
        self.backend = backend  # an OpenAIBackend: its client, key and base URL

    def _sdk(self) -> openai.AsyncOpenAI:
        return self.backend._sdk()

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except (openai.APITimeoutError, openai.APIConnectionError) as e:
            raise TransientBackendError(f"{what}: {type(e).__name__}: {e}") from e
        except openai.APIStatusError as e:
            message = server_message(e)
            if e.status_code == 429 or e.status_code >= 500 or e.status_code in (408, 409):
                raise TransientBackendError(f"{what}: HTTP {e.status_code}: {message}") from e
            raise BackendError(f"{what}: HTTP {e.status_code}: {message}") from e

    async def check(self) -> None:
        """A ConfigError (exit 2) when the server has no Batch API (vLLM, Ollama, llama.cpp)."""
        where = self.backend.base_url or "https://api.openai.com/v1"
        try:
            await self._sdk().batches.list(limit=1)
        except (openai.APITimeoutError, openai.APIConnectionError) as e:
            raise ConfigError(f"cannot reach {where} ({e}): check --base-url") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise ConfigError(
                f"{where} refused the key ({e.status_code}: {server_message(e)}): check "
                f"{self.backend.api_key_env}"
            ) from None
        except openai.NotFoundError:
            raise ConfigError(
                f"the server at {where} has no /v1/batches (vLLM, Ollama and llama.cpp serve "
                "none): run without --batch"
            ) from None
        except openai.APIStatusError as e:
            if e.status_code in (400, 405, 501):
                raise ConfigError(
                    f"the server at {where} refused /v1/batches ({e.status_code}: "
                    f"{server_message(e)}): run without --batch"
                ) from None
            raise

    async def upload(self, filename: str, data: bytes) -> str:
        call = self._sdk().files.create(file=(filename, data), purpose="batch")
        return (await self._call("upload the batch input file", call)).id

    async def create(self, file_id: str, endpoint: str, metadata: dict[str, str]) -> dict:
        call = self._sdk().batches.create(
            input_file_id=file_id,
            endpoint=endpoint,  # type: ignore[arg-type]
            completion_window=COMPLETION_WINDOW,
            metadata=metadata,
        )
        return (await self._call("create the batch", call)).model_dump()

    async def retrieve(self, batch_id: str) -> dict:
        call = self._sdk().batches.retrieve(batch_id)
        try:
            return (await self._call(f"retrieve batch {batch_id}", call)).model_dump()
        except BackendError as e:
            if "HTTP 404" not in str(e):
                raise
            raise BackendError(
                f"the provider does not know batch {batch_id} (another key or project, or "
                "deleted): `instructgen batches RUN_DIR --forget WAVE` sends its requests again"
            ) from e

    async def cancel(self, batch_id: str) -> dict:
        call = self._sdk().batches.cancel(batch_id)
        return (await self._call(f"cancel batch {batch_id}", call)).model_dump()

    async def content(self, file_id: str) -> bytes:
        call = self._sdk().files.content(file_id)
        return (await self._call(f"download file {file_id}", call)).content

    async def find_file(self, filename: str) -> str | None:
        """The id of an uploaded batch input file of this name (a session killed right after
        its upload committed nothing more)."""

        async def scan() -> str | None:
            async for f in self._sdk().files.list(purpose="batch"):
                if f.filename == filename:
                    return f.id
            return None

        return await self._call("list files", scan())

    async def find_batch(self, metadata: dict[str, str]) -> dict | None:
        """The newest batch whose metadata holds `metadata` (a session killed right after
        its create)."""

        async def scan() -> dict | None:
            async for b in self._sdk().batches.list(limit=100):
                found = b.metadata or {}
                if all(found.get(k) == v for k, v in metadata.items()):
                    return b.model_dump()
            return None

        return await self._call("list batches", scan())
