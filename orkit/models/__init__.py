"""Problem models: each module holds one family's data, meaning and checker."""
