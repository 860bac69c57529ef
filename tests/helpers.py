"""Small builders for test inputs."""

from __future__ import annotations


def minimal_pdf(lines: list[str], size: float = 12, leading: float = 14) -> bytes:
    """A valid one-page PDF with the given text lines (Helvetica, ``size`` pt, ``leading`` pt apart), built by hand."""
    text_ops = f"BT /F1 {size:g} Tf 72 720 Td {leading:g} TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines) + " ET"
    return assemble_pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text_ops)} >>\nstream\n{text_ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def assemble_pdf(objects: list[str | bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1, the first the catalog), with its cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + (obj if isinstance(obj, bytes) else obj.encode("latin-1")) + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def raw_http(port: int, data: bytes, wait: float = 60) -> bytes:
    """Send ``data`` to 127.0.0.1:``port`` as is and return all the server answers until it closes."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return out


def scanned_pdf_with_text_layer(visible: list[str], layer: list[str]) -> bytes:
    """A one-page PDF whose image shows ``visible`` (a scan) under an invisible text layer of ``layer`` (render mode
    3, as OCR software writes it): what pdfium extracts is ``layer``, what tesseract reads is ``visible``."""
    import io

    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(minimal_pdf(visible, size=14, leading=20))
    image = src[0].render(scale=200 / 72, grayscale=True).to_pil()
    src.close()
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    jpeg = buf.getvalue()
    text_ops = "q 612 0 0 792 0 0 cm /Im1 Do Q BT 3 Tr /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in layer) + " ET"
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        f"<< /Length {len(text_ops)} >>\nstream\n{text_ops}\nendstream".encode("latin-1"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} /ColorSpace /DeviceGray "
        f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n".encode("latin-1") + jpeg +
        b"\nendstream",
    ])
