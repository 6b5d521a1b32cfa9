// The MongoDB store (see MongoChatStore).
