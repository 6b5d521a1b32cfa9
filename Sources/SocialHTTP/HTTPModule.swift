// The outgoing HTTP adapter: the REST proxy and the push webhook live here.
