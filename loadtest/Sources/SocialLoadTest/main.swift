print("social-loadtest: not built yet")
