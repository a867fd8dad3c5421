"""Face detection, landmarks, embeddings and comparison (card portrait vs selfie)."""
