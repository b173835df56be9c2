"""The demo privacy statement, in English and French (seed_demo publishes it): what a
privacy officer would require of one: who the controller is and how to reach it and its
data protection officer, what is held, why and on what legal basis, for how long, who
else handles it, and every right, with how to exercise it, including the complaint to
the supervisory authority (the CNIL, for an operator established in France).

The legal entity, its address and its registration number are the demo's own."""

DEMO_CONTROLLER = {
    "entity": "{operator} SAS",
    "address": "12 rue de l'Exemple, 75002 Paris, France",
    "registration": "RCS Paris 000 000 000 (demo)",
    "dpo_email": "dpo@example.com",
}

DEMO_TITLE = "{operator} privacy statement"
DEMO_TITLE_FR = "Déclaration de confidentialité de {operator}"

DEMO_STATEMENT = """\
## Who we are

{entity}, {address} ({registration}), runs cloud services and public Wi-Fi. When you
use them, we hold some information about you, and we are the **controller** of it: we
decide why and how it is used. This statement says what we hold, why, on what legal
basis, for how long, who helps us handle it, and what you can do about it. The privacy
portal is where you exercise those rights yourself, whenever you like.

## How to reach us

- **Privacy team**: the requests page of the portal, or by post to {entity},
  {address}.
- **Data protection officer**: {dpo_email}, or by post to the address above, for the
  attention of the data protection officer.

## What we hold about you, and why

- **Your account**: your email addresses, your password (only as a hash, never in
  clear), your two-factor methods and your sign-in sessions. To give you, and only you,
  access to your data (the contract between us). Kept while you have an account.
- **Your profile**: name, company, postal address, phone number, the type and number
  of an identity document and a bank account (IBAN) if you give them. The document
  number and the IBAN are encrypted and shown masked. To provide and bill the service
  (the contract). Kept while you have an account.
- **Your preferences**: whether you want emails about improvements to the service or
  about deletions, and your language. Emails about improvements are sent only with your
  consent. Kept while you have an account.
- **Your devices**: the MAC address and label of each device you register, when you
  added it and when we last saw it. To connect them to our network (the contract). Kept
  until you remove the device or close your account.
- **Network access logs**: for each session on our network, the email of the account
  as it was then, the device's MAC address, its IP address, the site (name and
  address), when the session started and ended, and the data sent and received. Because
  the law on electronic communications obliges us to keep them (legal obligation).
- **Statement acceptances**: which version of this statement you accepted, in which
  language, when, and the IP address and browser you used. To be able to show what you
  agreed to (legal obligation). Kept while you have an account.
- **Activity history**: every change to your data and every time our staff looked at
  it, with who (you, staff, an automatic job) and when. To keep your data safe and
  show you who handled it (our legitimate interest). Kept while you have an account.
- **Disclosures**: any lawful disclosure of your data to an authority. Kept as long as
  the law requires.
- **Data requests**: the questions and correction requests you send to our privacy
  team, our answers and their dates. To answer them (legal obligation). Kept for 12
  months after the request is closed.

We make no decision about you by automated means alone, and we do not sell your data.

## Network access logs: at most 12 months

The law requires us to keep access logs so that we can answer lawful requests from
the authorities. We keep each session for at most 12 months from its start and then
erase it automatically. A log is kept longer only while a legal hold issued by an
authority covers it. We disclose logs only when the law obliges us to, and you can
see in the portal when a disclosure about you may be shown.

## Your rights

You can exercise each of these rights at any time, free of charge. What the portal does
not do by itself, ask from the requests page of the portal: you get a reference number
at once, and our privacy team answers within one month (two more months at most for a
complex request, and we tell you why).

- **Access**: see everything we hold on the "What we hold" page, your sessions on the
  sessions page, and who handled your data on the activity page; or ask us what we hold
  about you and what we do with it.
- **Rectification**: correct your profile yourself; for anything else, send a request
  to our privacy team.
- **Erasure**: delete some of your data with a request, or your whole account. We email
  you a receipt saying what was deleted and what the law makes us keep, detached from
  your account, and until when.
- **Restriction**: ask us, through a request, to stop using some of your data while
  you contest its accuracy or our use of it; we then only keep it.
- **Objection**: object, through a request, to what we do on the basis of our
  legitimate interest; we stop unless we have compelling legitimate grounds, and you
  can always object to marketing.
- **Portability**: download all your data in machine-readable form (JSON and CSV), or
  ask us to send it to you or to another provider.
- **Withdrawing consent**: turn emails about improvements off in your preferences, or
  with the one-click link in each of them. What we did before stays lawful.
- **Complaint**: if you think we do not respect your rights, you may complain to the
  supervisory authority, the Commission nationale de l'informatique et des libertés
  (CNIL), 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France, www.cnil.fr,
  or to the authority of the EU country where you live or work.

We email you whenever data about you is deleted (you can turn these notices off), and
whenever this statement changes, with the date the change takes effect. When a change
is significant, we tell you at least 30 days ahead and ask you to accept it.

## Who helps us

Our hosting provider and our email delivery provider handle data on our behalf, under
contract and only on our instructions. Your data stays in the European Union. The
processors page lists them.

## Cookies

The portal sets only the cookies it needs to work; none of them tracks you. The cookies
page lists them.
"""

DEMO_STATEMENT_FR = """\
## Qui nous sommes

{entity}, {address} ({registration}), exploite des services cloud et des réseaux
Wi-Fi publics. Lorsque vous les utilisez, nous détenons des informations sur vous, dont
nous sommes le **responsable du traitement** : nous décidons pourquoi et comment elles
sont utilisées. Cette déclaration dit ce que nous détenons, pourquoi, sur quelle base
légale, combien de temps, qui nous aide à le traiter, et ce que vous pouvez faire. Le
portail de confidentialité est l’endroit où vous exercez vous-même ces droits, quand
vous le souhaitez.

## Nous joindre

- **Équipe confidentialité** : la page des demandes du portail, ou par courrier à
  {entity}, {address}.
- **Délégué à la protection des données** : {dpo_email}, ou par courrier à l’adresse
  ci-dessus, à l’attention du délégué à la protection des données.

## Ce que nous détenons sur vous, et pourquoi

- **Votre compte** : vos adresses e-mail, votre mot de passe (seulement sous forme
  d’empreinte, jamais en clair), vos méthodes de double authentification et vos sessions
  de connexion. Pour vous donner accès, à vous seul, à vos données (le contrat qui nous
  lie). Conservés tant que vous avez un compte.
- **Votre profil** : nom, société, adresse postale, téléphone, le type et le numéro
  d’une pièce d’identité et un compte bancaire (IBAN) si vous les donnez. Le numéro de
  pièce et l’IBAN sont chiffrés et affichés masqués. Pour fournir et facturer le service
  (le contrat). Conservés tant que vous avez un compte.
- **Vos préférences** : si vous souhaitez recevoir des e-mails sur les améliorations du
  service ou sur les suppressions, et votre langue. Les e-mails sur les améliorations ne
  sont envoyés qu’avec votre consentement. Conservées tant que vous avez un compte.
- **Vos appareils** : l’adresse MAC et le nom de chaque appareil que vous enregistrez, sa
  date d’ajout et la dernière fois que nous l’avons vu. Pour les connecter à notre réseau
  (le contrat). Conservés jusqu’à ce que vous retiriez l’appareil ou fermiez votre compte.
- **Journaux d’accès au réseau** : pour chaque session sur notre réseau, l’e-mail du
  compte tel qu’il était alors, l’adresse MAC de l’appareil, son adresse IP, le site
  (nom et adresse), le début et la fin de la session, et les données envoyées et reçues.
  Parce que le droit des communications électroniques nous oblige à les conserver
  (obligation légale).
- **Acceptations de la déclaration** : quelle version de cette déclaration vous avez
  acceptée, dans quelle langue, quand, et l’adresse IP et le navigateur utilisés. Pour
  pouvoir montrer ce que vous avez accepté (obligation légale). Conservées tant que vous
  avez un compte.
- **Historique d’activité** : chaque modification de vos données et chaque consultation
  par notre personnel, avec qui (vous, le personnel, une tâche automatique) et quand. Pour
  protéger vos données et vous montrer qui les a traitées (notre intérêt légitime).
  Conservé tant que vous avez un compte.
- **Communications** : toute communication légale de vos données à une autorité.
  Conservées aussi longtemps que la loi l’exige.
- **Demandes** : les questions et demandes de rectification que vous adressez à notre
  équipe confidentialité, nos réponses et leurs dates. Pour y répondre (obligation
  légale). Conservées 12 mois après la clôture de la demande.

Nous ne prenons aucune décision vous concernant sur le seul fondement d’un traitement
automatisé, et nous ne vendons pas vos données.

## Journaux d’accès au réseau : 12 mois au plus

La loi nous oblige à conserver les journaux d’accès pour pouvoir répondre aux demandes
légales des autorités. Nous conservons chaque session 12 mois au plus à compter de son
début, puis nous l’effaçons automatiquement. Un journal n’est conservé plus longtemps que
tant qu’une conservation légale ordonnée par une autorité le couvre. Nous ne communiquons
les journaux que lorsque la loi nous y oblige, et le portail vous indique à partir de
quand une communication vous concernant peut vous être montrée.

## Vos droits

Vous pouvez exercer chacun de ces droits à tout moment, gratuitement. Ce que le portail
ne fait pas de lui-même, demandez-le depuis la page des demandes du portail : vous
recevez aussitôt un numéro de référence, et notre équipe confidentialité répond sous un
mois (deux mois de plus au plus pour une demande complexe, en vous disant pourquoi).

- **Accès** : voyez tout ce que nous détenons sur la page « Ce que nous détenons », vos
  sessions sur la page des sessions, et qui a traité vos données sur la page d’activité ;
  ou demandez-nous ce que nous détenons sur vous et ce que nous en faisons.
- **Rectification** : corrigez vous-même votre profil ; pour le reste, adressez une
  demande à notre équipe confidentialité.
- **Effacement** : supprimez certaines de vos données par une demande, ou tout votre
  compte. Nous vous envoyons par e-mail un reçu qui dit ce qui a été supprimé et ce que
  la loi nous oblige à garder, détaché de votre compte, et jusqu’à quand.
- **Limitation** : demandez-nous, par une demande, de cesser d’utiliser certaines de vos
  données pendant que vous en contestez l’exactitude ou notre usage ; nous ne faisons
  alors que les conserver.
- **Opposition** : opposez-vous, par une demande, à ce que nous faisons sur le fondement
  de notre intérêt légitime ; nous cessons, sauf motif légitime impérieux, et vous pouvez
  toujours vous opposer à la prospection.
- **Portabilité** : téléchargez toutes vos données dans un format lisible par machine
  (JSON et CSV), ou demandez-nous de vous les envoyer, à vous ou à un autre fournisseur.
- **Retrait du consentement** : désactivez les e-mails sur les améliorations dans vos
  préférences, ou avec le lien de désinscription en un clic de chacun d’eux. Ce que nous
  avons fait auparavant reste licite.
- **Réclamation** : si vous estimez que nous ne respectons pas vos droits, vous pouvez
  introduire une réclamation auprès de l’autorité de contrôle, la Commission nationale de
  l’informatique et des libertés (CNIL), 3 place de Fontenoy, TSA 80715, 75334 Paris
  Cedex 07, France, www.cnil.fr, ou auprès de l’autorité du pays de l’UE où vous vivez ou
  travaillez.

Nous vous écrivons chaque fois que des données vous concernant sont supprimées (vous
pouvez désactiver ces avis), et chaque fois que cette déclaration change, avec la date à
laquelle le changement prend effet. Lorsqu’un changement est important, nous vous
prévenons au moins 30 jours à l’avance et vous demandons de l’accepter.

## Qui nous aide

Notre hébergeur et notre prestataire d’envoi d’e-mails traitent des données pour notre
compte, sous contrat et uniquement sur nos instructions. Vos données restent dans l’Union
européenne. La page des sous-traitants les présente.

## Cookies

Le portail ne dépose que les cookies nécessaires à son fonctionnement ; aucun ne vous
suit. La page des cookies les présente.
"""


def demo_texts(*, operator: str) -> dict[str, str]:
    """The statement's title and body in both languages, for this operator."""
    names = {key: value.format(operator=operator) for key, value in DEMO_CONTROLLER.items()}
    return {
        "title": DEMO_TITLE.format(operator=operator),
        "title_fr": DEMO_TITLE_FR.format(operator=operator),
        "body": DEMO_STATEMENT.format(**names),
        "body_fr": DEMO_STATEMENT_FR.format(**names),
    }
