"""`mash-broker web`: the MASH page as its own process.

The composition root of the page: it builds the codec, the views, the Kafka feed and the
producer, the users and the app, and serves it with uvicorn. Kafka is reached only in
the app's lifespan (nothing connects at import or construction), and the topics the page
writes are created first, as the worker does.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette

from broker.codec import codec_from_settings
from broker.config.partnership import load_config
from broker.kafka.admin import client_options, create_topics
from broker.ops.logs import configure_logging
from broker.settings import Settings
from broker.web.app import create_app
from broker.web.auth import UserStore
from broker.web.feed import Changes, ViewFeed, page_topics
from broker.web.http import WebContext
from broker.web.publisher import KafkaPublisher
from broker.web.views import MashViews

log = logging.getLogger("broker.web.server")


def now() -> datetime:
    return datetime.now(UTC)


def build_app(settings: Settings) -> Starlette:
    """The page wired to Kafka (started by the app's lifespan)."""
    codec = codec_from_settings(settings)
    views = MashViews()
    changes = Changes()
    feed = ViewFeed(settings, codec, views, changes)
    publisher = KafkaPublisher(settings)
    users = UserStore.from_file(settings.web_users_file)
    ctx = WebContext(
        views=views,
        changes=changes,
        publisher=publisher,
        codec=codec,
        users=users,
        config=load_config(settings.partnership_file),
        clock=now,
        stream_seconds=settings.web_stream_seconds,
        is_ready=lambda: feed.ready,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await create_topics(
            settings.kafka_bootstrap,
            page_topics(),  # its own only: the page may not even see the agencies' topics
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
            client_options=client_options(settings),
        )
        await publisher.start()
        try:
            await feed.start()
            log.info("mash page started")
            yield
        finally:
            await feed.stop()
            await publisher.stop()

    secret = settings.web_session_secret
    if secret is None:
        log.warning("no MASH_WEB_SESSION_SECRET: sessions end when the page restarts")
    return create_app(
        ctx,
        session_secret=secret.get_secret_value() if secret else secrets.token_urlsafe(48),
        session_max_age=settings.web_session_max_age,
        https_only=settings.web_secure_cookies,
        lifespan=lifespan,
    )


def run_web(settings: Settings) -> int:
    configure_logging()
    app = build_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        log_config=None,  # our JSON formatter (broker.ops.logs) writes uvicorn's lines too
        access_log=False,  # request lines would carry paths: ids only, but not needed
        timeout_graceful_shutdown=3,  # live streams must not hold a restart
        server_header=False,
    )
    asyncio.run(uvicorn.Server(config).serve())
    return 0
