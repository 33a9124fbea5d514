"""Where a model comes from: a Hugging Face repo (config.json, GGUF files) or a GGUF over HTTP.

Imported only when such a name is given (`hwbench.resolve` decides), so `check --model <bundled name>`
never loads huggingface_hub or an HTTP client.
"""
