"""Non-ASCII identifiers and strings: columns are UTF-8 bytes."""
café = "naïve €"
print(café, "€€", undefined_after_euro)
αβ = 1
print(αγ)
x = f"😀"
