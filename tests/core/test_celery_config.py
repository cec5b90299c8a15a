"""The effective Celery configuration: a misspelt setting would be silently ignored."""

from workers.celery import app
from workers.tasks import asset_embed_frames, asset_probe, asset_sample_frames, asset_tag


def test_pipeline_tasks_are_acknowledged_late_and_requeued_when_a_worker_dies():
    for task in (asset_probe, asset_sample_frames, asset_embed_frames, asset_tag):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.max_retries == 5


def test_workers_take_one_heavy_task_at_a_time_and_keep_no_results():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
    assert app.conf.task_serializer == "json"


def test_queues_split_media_and_ml_work():
    assert {q.name for q in app.conf.task_queues} == {"media", "ml", "default"}
    route = app.amqp.router.route
    assert route({}, "workers.tasks.asset_sample_frames")["queue"].name == "media"
    assert route({}, "workers.tasks.asset_embed_frames")["queue"].name == "ml"
    assert route({}, "workers.tasks.asset_finish")["queue"].name == "default"


def test_the_broker_is_the_configured_redis():
    from django.conf import settings

    assert app.conf.broker_url == settings.REDIS_URL
    assert app.conf.broker_transport_options["visibility_timeout"] >= 600


def test_a_worker_reconnects_to_a_lost_broker_however_long_it_is_gone():
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None


def test_task_events_are_sent_for_flower():
    assert app.conf.worker_send_task_events is True
    assert app.conf.task_send_sent_event is True


def test_each_pool_process_runs_torch_on_its_share_of_the_cores(settings):
    """Two pool processes on two cores each get one torch thread (and one decoding and faces thread):
    every process on every core made the CLIP step many times slower (README, "Ingest speed");
    MEDIAHUB_TORCH_THREADS overrides torch's."""
    import os
    from types import SimpleNamespace

    import torch

    from workers import celery

    before, remembered = torch.get_num_threads(), celery._pool_processes
    try:
        celery._pool_size_remember(sender=SimpleNamespace(concurrency=os.cpu_count()))
        celery._torch_threads_set()
        assert torch.get_num_threads() == 1
        assert celery.process_cores() == 1
        celery._pool_size_remember(sender=SimpleNamespace(concurrency=1))
        celery._torch_threads_set()
        assert torch.get_num_threads() == os.cpu_count() == celery.process_cores()
        settings.TORCH_THREADS = 3
        celery._torch_threads_set()
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
        celery._pool_processes = remembered
