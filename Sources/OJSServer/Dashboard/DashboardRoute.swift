import HTTPTypes
import Hummingbird
import NIOCore

extension OJSAPI {
    /// `GET /ojs/dashboard`: the live dashboard page, shipped inside the binary.
    func addDashboardRoute(_ router: Router<Context>) {
        router.get("/ojs/dashboard") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[HTTPField.Name("Cache-Control")!] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
    }
}
