// The Redis bus (see RedisBus).
