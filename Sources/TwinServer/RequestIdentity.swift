/// The verified token of the request being handled, set by ``TokenMiddleware`` for the handlers behind it.
enum RequestIdentity {
    @TaskLocal static var current: TokenIdentity?
}
