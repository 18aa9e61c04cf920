"""The partnership's configuration: thresholds, deadlines, lawful bases, the
minimisation table and the language list, validated once at start (`partnership`)."""
