print("klogs")
