"""The index engine: pure Python and NumPy, no Django import."""
