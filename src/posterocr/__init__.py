"""posterocr: phone photos of conference posters in, a published notes page out."""

__version__ = "0.1.0"
