/// The `prefers-color-scheme` a page sees (`WebDriverSession.setColorScheme`); the raw value
/// is the CSS media feature's value.
enum WebDriverColorScheme: String, Sendable {
    case light
    case dark
}
