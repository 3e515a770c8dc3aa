# The HueGIS app image (the database is the postgis/postgis service in docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY geo geo
COPY layers layers
COPY api api
COPY tiles tiles
COPY cli cli
COPY migrations migrations
COPY pygeoapi-config.yml ./
RUN pip install --no-cache-dir -e .
EXPOSE 8000
# Migrate, load what changed, generate pygeoapi's OpenAPI document, then serve.
CMD ["huegis", "serve"]
