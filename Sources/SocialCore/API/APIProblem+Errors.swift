import SocialProtocol

extension APIProblem {
    /// The problem a service or store error becomes in the backend API.
    static func from(_ error: any Error) -> APIProblem {
        if let problem = error as? APIProblem { return problem }
        if let service = error as? ServiceError {
            let message = service.body.message
            switch service.body.code {
            case .invalidArgs, .badRequest, .tooLarge: return .badRequest(message)
            case .forbidden: return .forbidden(message)
            case .notFound: return .notFound(message)
            case .conflict: return .conflict(message)
            case .unavailable, .timeout, .overloaded, .shuttingDown: return .unavailable(message)
            default: return .internal(message)
            }
        }
        if let store = error as? StoreError {
            if store.isNotFound { return .notFound(store.message) }
            if store.isConflict { return .conflict(store.message) }
            return .unavailable("the store is unavailable; retry later")
        }
        return .internal("unexpected error")
    }
}
