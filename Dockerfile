# Airflow with this provider installed from the repository (used by docker-compose.yml).
# Build: docker compose build   (or: docker build -t labelbox-airflow .)
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
# The provider's sources only (dags/ and plugins/ are mounted by docker-compose.yml).
COPY --chown=airflow:0 pyproject.toml README.md /opt/labelbox-provider/
COPY --chown=airflow:0 connectors /opt/labelbox-provider/connectors

# Pin Airflow to the image's version so pip never up- or downgrades it while resolving.
# The postgres and common-sql providers ship with the official image (production warehouse).
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/labelbox-provider \
 && labelbox-emulator --help >/dev/null
