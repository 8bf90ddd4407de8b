"""Input adapters: line sources (file, FIFO / serial-like device, stdin) and the parsers of the
two input formats (slot sensors' JSON lines, DeepStream-like camera detections)."""
