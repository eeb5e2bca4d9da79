"""Word lists and the random text built from them (titles, authors, body text).

Titles imitate real ML paper titles: mixed case, colons, hyphens, question
marks, lower-case brand names ("infini-gram") and acronyms ("CA-LoRA"), since
those are what trip up OCR and title-casing heuristics.
"""

from __future__ import annotations

import random

BRANDS = [
    "infini-gram", "vLLM", "llama.cpp", "nanoGPT", "tinygrad", "Mamba", "FlashAttention",
    "DreamFusion", "Orca", "Alpaca", "Vicuna", "Gemma", "Pythia", "OLMo", "Dolma", "SigLIP",
    "ToolFormer", "ReAct", "AutoGen", "MiniCPM", "Qwen", "DeepSeek", "Mistral", "Medusa",
    "EAGLE", "Hydra", "SpecInfer", "Chameleon", "Zephyr", "Tulu", "Phi", "RWKV", "Hyena",
    "DoRA", "QLoRA", "GaLore", "ReFT", "BitNet", "SmoothQuant", "AWQ", "GPTQ", "Marlin",
    "FlexGen", "PagedAttention", "RingAttention", "StreamingLLM", "H2O", "SnapKV", "Quest",
    "Toolkit-X", "deepcache", "fastText", "word2vec", "seq2seq", "pix2pix", "sim2real",
]
ACRONYM_PARTS = [
    "CA", "LoRA", "MoE", "RL", "HF", "KV", "ViT", "CLIP", "GAN", "VAE", "NeRF", "SAM", "DPO",
    "PPO", "RAG", "CoT", "ToT", "LLM", "VLM", "SFT", "GNN", "MLP", "SSM", "TTA", "OOD", "ICL",
]
ADJECTIVES = [
    "Efficient", "Scalable", "Robust", "Unbounded", "Sparse", "Adaptive", "Provable", "Fast",
    "Memory-Efficient", "Self-Supervised", "Zero-Shot", "Few-Shot", "Long-Context", "Causal",
    "Multilingual", "Multimodal", "Compressed", "Faithful", "Calibrated", "Interpretable",
    "Decentralized", "Federated", "Contrastive", "Hierarchical", "Lightweight", "Parameter-Efficient",
    "Test-Time", "Data-Free", "Uncertainty-Aware", "Structured", "Speculative", "Latent",
]
NOUNS = [
    "Language Models", "Transformers", "Diffusion Models", "Attention", "Tokenizers", "Agents",
    "Reward Models", "Retrieval", "Embeddings", "Representations", "Decoding", "Alignment",
    "Quantization", "Distillation", "Pruning", "Fine-Tuning", "Pretraining", "Benchmarks",
    "Optimizers", "Neural Fields", "Graph Networks", "World Models", "Policies", "Datasets",
    "Vision Encoders", "Mixture-of-Experts", "State Space Models", "Kernels", "Memory",
    "n-gram Models", "Scaling Laws", "Preference Data", "Chain-of-Thought", "Sparse Autoencoders",
]
PLURAL_NOUNS = [n for n in NOUNS if n.endswith("s") and n not in ("Attention", "Memory", "Retrieval")]
TASKS = [
    "Code Generation", "Machine Translation", "Protein Design", "Robot Manipulation",
    "Image Segmentation", "Question Answering", "Theorem Proving", "Weather Forecasting",
    "Speech Recognition", "Video Understanding", "Long-Document Summarization", "Tabular Data",
    "Autonomous Driving", "Molecule Generation", "Math Reasoning", "Low-Resource Languages",
    "Compressed LLMs", "Edge Devices", "a Trillion Tokens", "3D Reconstruction", "Clinical Notes",
]
METHODS = [
    "Learned Rotations", "Low-Rank Adapters", "Optimal Transport", "Contrastive Decoding",
    "Random Features", "Synthetic Data", "Self-Play", "Curriculum Learning", "Tree Search",
    "Energy-Based Training", "Weight Averaging", "Gradient Surgery", "Implicit Differentiation",
    "a Tiny Draft Model", "Lookahead Decoding", "Mixed Precision", "Token Merging", "Sinkhorn Iterations",
]
VERBS = [
    "Scaling", "Adapting", "Rethinking", "Revisiting", "Understanding", "Accelerating",
    "Compressing", "Aligning", "Evaluating", "Probing", "Steering", "Merging", "Unlearning",
    "Distilling", "Benchmarking", "Grounding", "Stabilizing", "Debiasing",
]
QUESTION_VERBS = ["Generalize", "Reason", "Memorize", "Plan", "Forget", "Scale", "Help", "Lie", "Transfer"]

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Claude", "Yann", "Fei", "Andrew", "Daphne", "Geoffrey", "Yoshua",
    "Jürgen", "Ilya", "Oriol", "Percy", "Chelsea", "Sergey", "Pieter", "Jia", "Kaiming",
    "Ashish", "Noam", "Niki", "Jakob", "Llion", "Aidan", "Łukasz", "Illia", "Tri", "Albert",
    "Christopher", "Dan", "Mira", "Priya", "Ananya", "Wei", "Xin", "Yuki", "Hiroshi", "Olga",
    "Sofia", "Mateo", "Lucía", "Amara", "Kwame", "Zeynep", "Emre", "Ines", "Lars", "Maja",
    "Jiacheng", "Luca", "Sewon", "Hannaneh", "Noah", "Tim", "Rishi", "Tatsu", "Rohan",
]
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Shannon", "LeCun", "Li", "Ng", "Koller", "Hinton",
    "Bengio", "Schmidhuber", "Sutskever", "Vinyals", "Liang", "Finn", "Levine", "Abbeel",
    "Deng", "He", "Vaswani", "Shazeer", "Parmar", "Uszkoreit", "Jones", "Gomez", "Kaiser",
    "Polosukhin", "Dao", "Gu", "Manning", "Jurafsky", "Murati", "Patel", "Kumar", "Zhang",
    "Wang", "Tanaka", "Sato", "Petrova", "García", "Rossi", "Okafor", "Mensah", "Yılmaz",
    "Demir", "Schmidt", "Nilsson", "Kowalski", "Liu", "Min", "Hajishirzi", "Smith",
    "Dettmers", "Bommasani", "Hashimoto", "Taori", "Müller", "O'Brien", "Nguyen",
]
INSTITUTIONS = [
    "University of Washington", "Allen Institute for AI", "Stanford University", "MIT CSAIL",
    "Carnegie Mellon University", "ETH Zürich", "University of Oxford", "Tsinghua University",
    "University of Toronto", "Mila – Québec AI Institute", "Google DeepMind", "Meta FAIR",
    "Max Planck Institute for Intelligent Systems", "EPFL", "KAIST", "University of Tokyo",
    "UC Berkeley", "Princeton University", "Imperial College London", "Peking University",
]
CONFERENCES = ["NeurIPS", "ICML", "ICLR", "ACL", "EMNLP", "CVPR", "COLM", "AAAI", "NAACL", "ECCV"]
SECTION_HEADINGS = [
    "Motivation", "Background", "Method", "Approach", "Key Idea", "Setup", "Experiments",
    "Results", "Analysis", "Ablations", "Limitations", "Conclusion", "Takeaways", "Overview",
    "Problem", "Contributions", "Related Work", "Future Work", "Findings", "Evaluation",
]
TAGLINES = [
    "We can decode faster by drafting with a tiny model",
    "Bigger context windows do not mean better recall",
    "Your reward model is secretly a classifier",
    "Most attention heads can be pruned after training",
    "Synthetic data helps only when it is diverse",
    "Quantized models forget rare facts first",
    "A trillion-token n-gram index answers in milliseconds",
    "Small models can check the work of large ones",
]
QUESTION_HEADLINES = [
    "Can a tiny model draft for a giant one?",
    "Do language models know what they don't know?",
    "Is attention all you need for long documents?",
    "Why do agents fail at simple tasks?",
    "How much data does alignment really need?",
    "Are benchmarks measuring memorization?",
    "What makes a good reward model?",
]
FILLER = (
    "model data training loss tokens layer attention we show that our method improves over "
    "baseline results across tasks benchmark accuracy performance scale compute efficient "
    "learning representation gradient parameters inference latency memory throughput dataset "
    "evaluation robust generalization sparse dense objective optimization fine-tuning prior "
    "work however in contrast this paper propose simple effective approach experiments "
    "demonstrate significant gains hyperparameters embedding encoder decoder sequence length "
    "context window retrieval query key value head budget cost error rate samples"
).split()


def acronym(rng: random.Random) -> str:
    """A hyphenated acronym such as "CA-LoRA" or "KV-ViT"."""
    a, b = rng.sample(ACRONYM_PARTS, 2)
    return f"{a}-{b}" if rng.random() < 0.7 else a + b


def title(rng: random.Random) -> str:
    """A realistic ML paper title (no word stem used twice, e.g. not "Adapting Adaptive")."""
    for _ in range(20):
        text = _title_once(rng)
        stems = [w.lower()[:5] for w in text.replace(":", " ").replace("?", " ").split() if len(w) > 4]
        if len(stems) == len(set(stems)):
            return text
    return text


def _title_once(rng: random.Random) -> str:
    brand = rng.choice(BRANDS) if rng.random() < 0.6 else acronym(rng)
    patterns = [
        lambda: f"{brand}: {rng.choice(VERBS)} {rng.choice(NOUNS)} for {rng.choice(TASKS)}",
        lambda: f"{brand}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} with {rng.choice(METHODS)}",
        lambda: f"Do {rng.choice(PLURAL_NOUNS)} Really {rng.choice(QUESTION_VERBS)}?",
        lambda: f"{rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} via {rng.choice(METHODS)}",
        lambda: f"Towards {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} in {rng.choice(TASKS)}",
        lambda: f"When Do {rng.choice(PLURAL_NOUNS)} {rng.choice(QUESTION_VERBS)}? A Study of {rng.choice(NOUNS)}",
        lambda: f"{brand}: {rng.choice(VERBS)} Existing {rng.choice(ACRONYM_PARTS)} for {rng.choice(TASKS)}",
        lambda: f"{rng.choice(ADJECTIVES)} {rng.choice(PLURAL_NOUNS)} Are {rng.choice(ADJECTIVES)} Learners",
        lambda: f"{brand}: {rng.choice(ADJECTIVES).lower()} {rng.choice(NOUNS).lower()} made simple",
    ]
    return rng.choice(patterns)()


def title_tags(text: str, n_lines: int) -> list[str]:
    """What makes a title hard to read, as phenomenon tags."""
    tags = [f"title_{n_lines}_line" + ("s" if n_lines > 1 else "")]
    tokens = text.replace(":", " ").replace("?", " ").split()
    if any(c.isupper() for c in text) and any(c.islower() for c in text):
        tags.append("mixed_case")
    if any(t in BRANDS and t[0].islower() for t in tokens):
        tags.append("lowercase_brand")  # "infini-gram", "vLLM", "nanoGPT"
    tags += [name for mark, name in (("-", "hyphen"), (":", "colon"), ("?", "question_mark")) if mark in text]
    return tags


def author_names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in names:
            names.append(name)
    return names


def sentence(rng: random.Random, lo: int = 8, hi: int = 20) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(lo, hi))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))
