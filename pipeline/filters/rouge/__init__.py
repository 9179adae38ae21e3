"""The exact, fast ROUGE-L index: rouge-score's F-measure with LCS in native code."""
