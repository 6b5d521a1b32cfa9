import Foundation

/// What one line typed by the person (or piped in) asks for.
enum InputLine: Equatable {
    case nothing
    case quit
    case help
    /// A frame to send as is: a JSON line, or `:raw` text. `id` is the
    /// command's id when the frame is a command, so its reply can be awaited.
    case frame(text: String, id: Int?)
    case invalid(String)

    /// Reads a line. `nextId` gives the id of an `op key=value` command; it is
    /// asked only when the line is one.
    static func parse(_ line: String, nextId: () -> Int) -> InputLine {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return .nothing }
        if trimmed.hasPrefix(":") { return directive(trimmed) }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            guard let value = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) else {
                return .invalid("not valid JSON (use :raw to send it anyway)")
            }
            let object = value as? [String: Any]
            let id = object?["op"] is String ? object?["id"].flatMap(integer) : nil
            return .frame(text: trimmed, id: id)
        }
        do {
            return try command(trimmed, nextId: nextId)
        } catch {
            return .invalid("\(error)")
        }
    }

    private static func directive(_ line: String) -> InputLine {
        let name = line.prefix { !$0.isWhitespace }
        switch name {
        case ":quit", ":q", ":exit": return .quit
        case ":help", ":h": return .help
        case ":raw":
            let rest = line.dropFirst(name.count).drop { $0 == " " }
            return .frame(text: String(rest), id: nil)
        default: return .invalid("unknown directive \(name) (try :help)")
        }
    }

    /// `op key=value …` → `{"id": N, "op": op, "args": {…}}`.
    private static func command(_ line: String, nextId: () -> Int) throws -> InputLine {
        let words = try Words.split(line)
        guard let op = words.first else { return .nothing }
        var args: [String: Any] = [:]
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw LineError("expected key=value, got \(word)")
            }
            let key = String(word[..<eq])
            let value = jsonValue(String(word[word.index(after: eq)...]))
            if key == "args" {
                guard let whole = value as? [String: Any] else { throw LineError("args= must be a JSON object") }
                args.merge(whole) { _, new in new }
            } else {
                args[key] = value
            }
        }
        let id = nextId()
        var text = "{\"id\":\(id),\"op\":\(try encode(op))"
        if !args.isEmpty { text += ",\"args\":\(try encode(args))" }
        return .frame(text: text + "}", id: id)
    }

    /// A value is JSON when it parses as JSON (`3`, `true`, `"x"`, `{"a":1}`), else a string.
    static func jsonValue(_ text: String) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) ?? text
    }

    static func encode(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value,
                                              options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(value is Bool) else { return nil }
        let double = number.doubleValue
        return double.rounded() == double && abs(double) < 9.2e18 ? Int(double) : nil
    }
}

struct LineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Splits `op key=value …` into words: on spaces, except inside single
/// quotes (removed: `text='two words'`), double quotes (kept, so
/// `text="two words"` is a JSON string) and JSON brackets (`data={"a": 1}`).
enum Words {
    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        var depth = 0
        for ch in line {
            if let q = quote {
                if q == "\"" && escaped {
                    escaped = false
                    current.append(ch)
                } else if ch == q {
                    quote = nil
                    if q == "\"" { current.append(ch) }
                } else {
                    if q == "\"" && ch == "\\" { escaped = true }
                    current.append(ch)
                }
                continue
            }
            switch ch {
            case " " where depth == 0, "\t" where depth == 0:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            case "'":
                quote = ch
                inWord = true
            case "\"":
                quote = ch
                inWord = true
                current.append(ch)
            default:
                if ch == "{" || ch == "[" { depth += 1 }
                if ch == "}" || ch == "]" { depth = max(0, depth - 1) }
                current.append(ch)
                inWord = true
            }
        }
        if quote != nil { throw LineError("unterminated \(quote!) quote") }
        if inWord { words.append(current) }
        return words
    }
}
