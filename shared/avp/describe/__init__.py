"""Audio-description assembly: fitting voiced descriptions into the gaps of the dialogue."""
