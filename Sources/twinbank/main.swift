print("twinbank")
