# mediahub's image: the web server, the Celery workers, beat and the migrate one-shot all run it
# (compose.yaml; README, "Production"). Build: `docker compose build` or `docker build -t mediahub .`.
#
# Python 3.11, what the project runs on (CONTRACT.md section 1), on Debian 12 (bookworm), the reference
# machine's system. Every binary dependency (PyAV's FFmpeg, dlib, torch, psycopg's libpq) comes in its wheel.
FROM python:3.11-slim-bookworm

# PyPI's torch wheels for Linux carry CUDA (GPU workers use it; they run on CPUs too). For a smaller CPU-only
# image: --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu (torch==2.14.1 then resolves
# to 2.14.1+cpu).
ARG TORCH_INDEX_URL=
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
COPY requirements.txt /app/requirements.txt
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} -r /app/requirements.txt

COPY . /app
WORKDIR /app

# Never root: the app and its data dir belong to a system user. /var/lib/mediahub is each container's
# MEDIAHUB_DATA_DIR (a volume of its own: nothing is shared between containers but the services).
RUN useradd --system --uid 10001 --home-dir /var/lib/mediahub --shell /usr/sbin/nologin mediahub \
    && mkdir -p /var/lib/mediahub && chown mediahub:mediahub /var/lib/mediahub
USER mediahub
EXPOSE 8000
CMD ["gunicorn", "mediahub.wsgi:application", "-c", "python:mediahub.gunicorn_config", \
     "-w", "4", "-k", "gthread", "--threads", "4", "-b", "0.0.0.0:8000"]
