# docker build -t posterocr . && docker run --rm -v "$PWD:/data" -w /data posterocr extract img/
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/posterocr
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .

# Runs as root so that it can write into whatever folder is mounted at /data;
# add --user "$(id -u):$(id -g)" to docker run to get files owned by you.
WORKDIR /data
ENTRYPOINT ["posterocr"]
CMD ["--help"]
