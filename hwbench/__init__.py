"""hwbench: what hardware do I need to run this LLM, how fast will it be, and what will it cost?"""

__version__ = "0.1.0"
