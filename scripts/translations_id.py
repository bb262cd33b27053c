"""The earlier Indonesian table, kept while branches that add to it merge.

``moderation/translations/id/LC_MESSAGES/messages.po`` is now the source (see
``scripts/translations.py``); ``python scripts/translations.py extract`` copies an entry of
this table into that catalog where the catalog has no translation yet. New work edits the
``.po`` files; this file can go once nothing adds to it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "moderation" / "translations" / "id" / "LC_MESSAGES"

INDONESIAN: dict[str, str | tuple[str, ...]] = {
    # notifications (issue 15)
    "Notify me of follow-up comments by email.": "Beri tahu saya komentar lanjutan melalui email.",
    "Please confirm notifications from %(site)s": "Mohon konfirmasi pemberitahuan dari %(site)s",
    "Your comment on %(site)s was approved": "Komentar Anda di %(site)s telah disetujui",
    "%(author)s replied to your comment on %(site)s": "%(author)s membalas komentar Anda di %(site)s",
    "You asked to be told by email about follow-up comments on %(thread)s (%(site)s).": "Anda meminta diberi tahu melalui email tentang komentar lanjutan di %(thread)s (%(site)s).",
    "Please confirm that you want these emails:": "Mohon konfirmasi bahwa Anda menginginkan email ini:",
    "Please confirm that you want these emails.": "Mohon konfirmasi bahwa Anda menginginkan email ini.",
    "If you did not ask for this, ignore this email: nothing more will be sent.": "Jika Anda tidak memintanya, abaikan email ini: tidak ada lagi yang akan dikirim.",
    "Unsubscribe:": "Berhenti berlangganan:",
    "Unsubscribe": "Berhenti berlangganan",
    "Your comment on %(thread)s (%(site)s) was approved and is now published.": "Komentar Anda di %(thread)s (%(site)s) telah disetujui dan kini diterbitkan.",
    "See your comment": "Lihat komentar Anda",
    "Unsubscribe from this thread:": "Berhenti berlangganan utas ini:",
    "Unsubscribe from this thread": "Berhenti berlangganan utas ini",
    "%(author)s replied to your comment on %(thread)s (%(site)s):": "%(author)s membalas komentar Anda di %(thread)s (%(site)s):",
    "See the reply": "Lihat balasannya",
    "This link is not valid": "Tautan ini tidak valid",
    "The link is incomplete. Nothing changed.": "Tautan ini tidak lengkap. Tidak ada yang berubah.",
    "Confirm email notifications": "Konfirmasi pemberitahuan email",
    "Press the button to receive emails about follow-up comments.": "Tekan tombol untuk menerima email tentang komentar lanjutan.",
    "Yes, send me notifications": "Ya, kirimi saya pemberitahuan",
    "Thank you": "Terima kasih",
    "Your address is confirmed: you will be told about follow-up comments.": "Alamat Anda telah dikonfirmasi: Anda akan diberi tahu tentang komentar lanjutan.",
    "Stop emails about follow-up comments?": "Hentikan email tentang komentar lanjutan?",
    "Unsubscribe from all threads of %(site)s": "Berhenti berlangganan semua utas di %(site)s",
    "You will receive no more emails from %(site)s.": "Anda tidak akan menerima email lagi dari %(site)s.",
    "You will receive no more emails about this thread.": "Anda tidak akan menerima email lagi tentang utas ini.",
    "Unsubscribed": "Berhenti berlangganan",
    "%(date)s at %(time)s": "%(date)s pukul %(time)s",
    "%(num)d comment": ("%(num)d komentar", "%(num)d komentar"),
    "%(num)d Comment": ("%(num)d Komentar", "%(num)d Komentar"),
    "At most %(max)d threads per request.": "Paling banyak %(max)d utas per permintaan.",
    "Cancel reply": "Batalkan balasan",
    "Comment": "Komentar",
    "Comments": "Komentar",
    "Comments are closed on this page.": "Komentar ditutup di halaman ini.",
    "Comments are closed.": "Komentar ditutup.",
    "Comments for this site cannot be posted from %(origin)s.": "Komentar untuk situs ini tidak dapat dikirim dari %(origin)s.",
    "Comments navigation": "Navigasi komentar",
    "Duplicate comment detected; it looks as though you've already said that!": "Komentar duplikat terdeteksi; sepertinya Anda sudah pernah mengatakan hal tersebut!",
    "Email": "Email",
    "Leave a Reply": "Tinggalkan Balasan",
    "Back to the post": "Kembali ke tulisan",
    'Comments could not load: no site "%(site)s" is registered on %(service)s. Check data-site in the embed snippet (the dashboard\'s Sites page lists them).': 'Komentar tidak dapat dimuat: tidak ada situs "%(site)s" yang terdaftar di %(service)s. Periksa data-site pada potongan kode sematan (halaman Situs di dasbor mencantumkannya).',
    'Comments could not load: %(origin)s is not an allowed origin of site "%(site)s". Add it in the dashboard (Sites, %(site)s) or with: moderation sites update %(site)s --origin %(origin)s (repeat --origin for each origin to keep).': 'Komentar tidak dapat dimuat: %(origin)s bukan asal yang diizinkan untuk situs "%(site)s". Tambahkan di dasbor (Situs, %(site)s) atau dengan: moderation sites update %(site)s --origin %(origin)s (ulangi --origin untuk setiap asal yang dipertahankan).',
    "Your comment": ("Komentar Anda", "Komentar Anda"),
    "Leave this field empty": "Biarkan ruas ini kosong",
    "Moderator": "Moderator",
    "Name": "Nama",
    "Name at least one thread (?thread=A&thread=B).": "Sebutkan setidaknya satu utas (?thread=A&thread=B).",
    "Newer comments": "Komentar lebih baru",
    "No comments yet. Be the first to reply!": "Belum ada komentar. Jadilah yang pertama membalas!",
    "Older comments": "Komentar lebih lama",
    "Page %(page)d of %(pages)d": "Halaman %(page)d dari %(pages)d",
    "Please correct the marked fields and post again.": "Mohon perbaiki ruas yang ditandai lalu kirim lagi.",
    "Please enter a valid email address.": "Mohon masukkan alamat email yang valid.",
    "Please enter a website address starting with http:// or https://.": "Mohon masukkan alamat situs web yang diawali http:// atau https://.",
    "Please enter your email address.": "Mohon masukkan alamat email Anda.",
    "Please enter your name.": "Mohon masukkan nama Anda.",
    "Please type your comment.": "Mohon ketik komentar Anda.",
    "Post Comment": "Kirim Komentar",
    "Replies cannot nest deeper than %(depth)d levels here.": "Balasan tidak dapat bersarang lebih dari %(depth)d tingkat di sini.",
    "Reply": "Balas",
    "Reply to %(name)s": "Balas ke %(name)s",
    "Required fields are marked %(star)s": "Ruas yang wajib ditandai %(star)s",
    "Required, at most 255 characters.": "Wajib, paling banyak 255 karakter.",
    "Save my name, email, and website in this browser for the next time I comment.": "Simpan nama, email, dan situs web saya pada peramban ini untuk komentar saya berikutnya.",
    "Send the comment as JSON (Content-Type: application/json).": "Kirim komentar sebagai JSON (Content-Type: application/json).",
    "Some fields need your attention.": "Beberapa ruas perlu Anda periksa.",
    "That was quick! Please wait a moment and post your comment again.": "Cepat sekali! Mohon tunggu sebentar lalu kirim komentar Anda lagi.",
    "The body is not valid JSON.": "Isi permintaan bukan JSON yang valid.",
    "The body is not valid UTF-8.": "Isi permintaan bukan UTF-8 yang valid.",
    "The body must be a JSON object.": "Isi permintaan harus berupa objek JSON.",
    "The comment you are replying to does not exist.": "Komentar yang Anda balas tidak ada.",
    "The form belongs to another page. Please post your comment again.": "Formulir ini milik halaman lain. Mohon kirim komentar Anda lagi.",
    "The form has expired. Please post your comment again.": "Formulir sudah kedaluwarsa. Mohon kirim komentar Anda lagi.",
    "The form is invalid. Please post your comment again.": "Formulir tidak valid. Mohon kirim komentar Anda lagi.",
    "The page must name its comment thread (?thread=...).": "Halaman harus menyebutkan utas komentarnya (?thread=...).",
    "The request must name its comment thread (?thread=...).": "Permintaan harus menyebutkan utas komentarnya (?thread=...).",
    "This field must be text.": "Ruas ini harus berupa teks.",
    "This form was already used to post a comment. Please post your comment again.": "Formulir ini sudah dipakai untuk mengirim komentar. Mohon kirim komentar Anda lagi.",
    "This origin may not call this site's API.": "Asal ini tidak boleh memanggil API situs ini.",
    "This site is not registered here.": "Situs ini tidak terdaftar di sini.",
    "Unknown site %(slug)r.": "Situs %(slug)r tidak dikenal.",
    "Website": "Situs Web",
    "The service is briefly unavailable. Please try again in a few seconds.": "Layanan sedang tidak tersedia sebentar. Mohon coba lagi dalam beberapa detik.",
    "Something went wrong on our side; it has been logged.": "Terjadi kesalahan di pihak kami; kesalahan ini sudah dicatat.",
    "You are posting comments too quickly. Please wait %(seconds)d seconds and try again.": "Anda mengirim komentar terlalu cepat. Mohon tunggu %(seconds)d detik lalu coba lagi.",
    "You have posted too many comments. Please try again in %(wait)s.": "Anda sudah mengirim terlalu banyak komentar. Mohon coba lagi dalam %(wait)s.",
    "Your comment is awaiting moderation.": "Komentar Anda sedang menunggu moderasi.",
    "Your comment is published.": "Komentar Anda sudah diterbitkan.",
    "Your comment is too long (at most %(max)d characters).": "Komentar Anda terlalu panjang (paling banyak %(max)d karakter).",
    "Your email address is too long (at most %(max)d characters).": "Alamat email Anda terlalu panjang (paling banyak %(max)d karakter).",
    "Your email address will not be published.": "Alamat email Anda tidak akan dipublikasikan.",
    "Your name is too long (at most %(max)d characters).": "Nama Anda terlalu panjang (paling banyak %(max)d karakter).",
    "Your website address is too long (at most %(max)d characters).": "Alamat situs web Anda terlalu panjang (paling banyak %(max)d karakter).",
    "an unknown page": "halaman yang tidak dikenal",
    # the public data-rights page and its email (issue 18)
    "Your email address": "Alamat email Anda",
    "Yes, erase my data. This cannot be undone.": "Ya, hapus data saya. Ini tidak dapat dibatalkan.",
    "Nothing was erased: tick the box to confirm.": "Tidak ada yang dihapus: centang kotak untuk mengonfirmasi.",
    "Your data on %(service)s": "Data Anda di %(service)s",
    "Your comments and your data": "Komentar dan data Anda",
    "Enter the email address you used to comment. We will send a link to it: from that link you can download everything stored about your comments, or erase it.": "Masukkan alamat email yang Anda gunakan untuk berkomentar. Kami akan mengirim tautan ke alamat itu: dari tautan tersebut Anda dapat mengunduh semua yang tersimpan tentang komentar Anda, atau menghapusnya.",
    "This service cannot send emails at the moment. Please try again later or contact the site's owner.": "Layanan ini tidak dapat mengirim email saat ini. Silakan coba lagi nanti atau hubungi pemilik situs.",
    "Email me a link": "Kirimi saya tautan",
    "The link works once and expires. We never say on this page whether an address has comments here.": "Tautan hanya berlaku sekali dan kedaluwarsa. Halaman ini tidak pernah memberi tahu apakah suatu alamat memiliki komentar di sini.",
    "Check your inbox": "Periksa kotak masuk Anda",
    "If the address is valid, a link is on its way to it. It works once, for %(minutes)d minutes.": "Jika alamat itu valid, tautan sedang dikirim ke sana. Tautan berlaku sekali, selama %(minutes)d menit.",
    "Nothing arrived? Look in your spam folder, or ask again in a while.": "Tidak ada yang datang? Periksa folder spam Anda, atau minta lagi beberapa saat lagi.",
    "Ask again": "Minta lagi",
    "This link was already used": "Tautan ini sudah digunakan",
    "This link has expired": "Tautan ini sudah kedaluwarsa",
    "This form has expired": "Formulir ini sudah kedaluwarsa",
    "Nothing changed. Open the link from your email again.": "Tidak ada yang berubah. Buka lagi tautan dari email Anda.",
    "Each link works once and for a limited time. Nothing changed.": "Setiap tautan hanya berlaku sekali dan untuk waktu terbatas. Tidak ada yang berubah.",
    "Ask for a new link": "Minta tautan baru",
    "We store %(num)d comment written with your address.": (
        "Kami menyimpan %(num)d komentar yang ditulis dengan alamat Anda.",
        "Kami menyimpan %(num)d komentar yang ditulis dengan alamat Anda.",
    ),
    "This link works once: for a download, or for an erasure.": "Tautan ini hanya berlaku sekali: untuk mengunduh, atau untuk menghapus.",
    "Download my data (JSON)": "Unduh data saya (JSON)",
    "Erase my data": "Hapus data saya",
    "Erasing deletes your comments, and forgets your address, your subscriptions and your rate-limit traces.": "Penghapusan menghapus komentar Anda, serta melupakan alamat, langganan, dan jejak batas laju Anda.",
    "Erasing removes your name, email, website and network address from your comments (they show as Anonymous), and forgets your subscriptions and your rate-limit traces.": "Penghapusan menghilangkan nama, email, situs web, dan alamat jaringan Anda dari komentar Anda (komentar tampil sebagai Anonim), serta melupakan langganan dan jejak batas laju Anda.",
    "Your data is erased": "Data Anda telah dihapus",
    "%(num)d comment deleted.": ("%(num)d komentar dihapus.", "%(num)d komentar dihapus."),
    "%(num)d comment anonymised.": (
        "%(num)d komentar dianonimkan.",
        "%(num)d komentar dianonimkan.",
    ),
    "Your address, your subscriptions and your rate-limit traces are forgotten.": "Alamat, langganan, dan jejak batas laju Anda telah dilupakan.",
    "Someone, probably you, asked %(service)s for the data stored about comments written with this address.": "Seseorang, mungkin Anda, meminta %(service)s data yang tersimpan tentang komentar yang ditulis dengan alamat ini.",
    "Download or erase your data:": "Unduh atau hapus data Anda:",
    "Download or erase your data": "Unduh atau hapus data Anda",
    "The link works once, for %(minutes)d minutes.": "Tautan berlaku sekali, selama %(minutes)d menit.",
    "If you did not ask for this, ignore this email: nothing changes.": "Jika Anda tidak memintanya, abaikan email ini: tidak ada yang berubah.",
    # proof-of-work challenges (issue 19)
    "Please let your browser prove it is not a bulk sender: it solves a small puzzle (a few seconds), then post your comment again. What you wrote is kept.": "Biarkan peramban Anda membuktikan bahwa ia bukan pengirim massal: ia memecahkan teka-teki kecil (beberapa detik), lalu kirim komentar Anda lagi. Yang Anda tulis tetap tersimpan.",
    "The answer to the check was not accepted (it expired, or was for another comment). Please let your browser solve this new one, then post again.": "Jawaban pemeriksaan tidak diterima (kedaluwarsa, atau untuk komentar lain). Biarkan peramban Anda memecahkan yang baru ini, lalu kirim lagi.",
    "This check runs in your browser and needs JavaScript, which is off for this page. Turn JavaScript on and post again (what you wrote is kept), or come back later: the check is only asked of comments that look unusual.": "Pemeriksaan ini berjalan di peramban Anda dan memerlukan JavaScript, yang mati untuk halaman ini. Nyalakan JavaScript lalu kirim lagi (yang Anda tulis tetap tersimpan), atau kembali nanti: pemeriksaan ini hanya diminta untuk komentar yang tampak tidak biasa.",
    # the widget: closing comments, sorting, author edits (issue 14)
    "close_after_days must be between 0 (never) and %(high)d.": "close_after_days harus antara 0 (tidak pernah) dan %(high)d.",
    "Order of comments": "Urutan komentar",
    "Oldest first": "Terlama dulu",
    "Newest first": "Terbaru dulu",
    "Unknown order %(order)r: choose one of %(names)s.": "Urutan %(order)r tidak dikenal: pilih salah satu dari %(names)s.",
    "Edit": "Sunting",
    "Edit your comment": "Sunting komentar Anda",
    "You can edit your comment until %(time)s.": "Anda dapat menyunting komentar Anda hingga %(time)s.",
    "edited": "disunting",
    "Your edit is checked like a new comment; it may wait for a moderator again.": "Suntingan Anda diperiksa seperti komentar baru; mungkin menunggu moderator lagi.",
    "Save edit": "Simpan suntingan",
    "Cancel": "Batal",
    "Back to the comments": "Kembali ke komentar",
    "This comment can no longer be edited.": "Komentar ini tidak dapat disunting lagi.",
    # feeds, the fragment and the Markdown preview (issue 21)
    "Comments feed": "Umpan komentar",
    "Comments on %(name)s": "Komentar di %(name)s",
    "%(author)s on %(title)s": "%(author)s di %(title)s",
    "Preview": "Pratinjau",
    "You can use Markdown.": "Anda dapat menggunakan Markdown.",
}


def extract() -> Path:
    """Extract every message of the package and templates into a .pot file."""
    pot = ROOT / "build" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "_l",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return pot


def build() -> None:
    """Merge the table into the catalog and compile it."""
    with extract().open("rb") as handle:
        catalog = read_po(handle, locale="id")
    catalog.project, catalog.version = "moderation", "1"
    # fixed dates keep the committed files stable between runs
    catalog.creation_date = catalog.revision_date = datetime(2026, 11, 25, tzinfo=UTC)
    catalog.fuzzy = False
    catalog.last_translator = catalog.language_team = "moderation developers"
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in INDONESIAN:
            translated = INDONESIAN[key]
            if isinstance(translated, tuple):
                # as many forms as the catalog's plural rule has (Indonesian: one)
                translated = translated[: catalog.num_plurals]
            message.string = translated
            message.flags.discard("fuzzy")
    CATALOG.mkdir(parents=True, exist_ok=True)
    with (CATALOG / "messages.po").open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, no_location=True, sort_output=True)
    with (CATALOG / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)


if __name__ == "__main__":
    sys.exit("the catalogs are the source now: run python scripts/translations.py extract")
